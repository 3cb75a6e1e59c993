import Foundation
import Testing
@testable import APIServer

/// Kubernetes' protobuf encoding against the 1.35 schema: bytes a real Go client sent, every
/// field of every served kind written and read back, Go's rules for zero and absent values,
/// watch frames, and content negotiation.
@Suite(.timeLimit(.minutes(10))) struct ProtobufRoundTripTests {
    let schema = try! ProtobufSchema.builtIn()
    var codec: KubernetesProtobuf { KubernetesProtobuf(schema: schema) }

    /// Requests a real client sent in protobuf, recorded with `scripts/capture-protobuf`:
    /// kubectl 1.37's `kubectl create ...`, and kube-controller-manager 1.35 running a
    /// Deployment and a Job.
    func recorded(_ fixture: String = "kubectl-1.37-create.jsonl") throws -> [(path: String, body: [UInt8])] {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/" + fixture)
        return try String(contentsOf: file, encoding: .utf8).split(separator: "\n").map { line in
            let entry = try JSON.parse(Array(line.utf8))
            return (entry["path"]?.stringValue ?? "", Array(Data(base64Encoded: entry["body"]?.stringValue ?? "") ?? Data()))
        }
    }

    @Test func bodiesKubectlSentDecodeToTheObjectsItMeant() throws {
        let requests = try recorded()
        #expect(requests.count >= 15)
        var byKind: [String: JSON] = [:]
        for request in requests {
            let object = try codec.decode(request.body)
            byKind[object["kind"]?.stringValue ?? ""] = object
        }
        #expect(byKind["Namespace"]?[path: ["metadata", "name"]] == "captured")
        let configMap = try #require(byKind["ConfigMap"])
        #expect(configMap["apiVersion"] == "v1")
        #expect(configMap[path: ["data", "a"]] == "b")
        #expect(configMap[path: ["metadata", "namespace"]] == "captured")
        // Go's zero time is written as null, exactly as the JSON twin of this request.
        #expect(configMap[path: ["metadata", "creationTimestamp"]] == .null)
        #expect(byKind["Secret"]?[path: ["data", "password"]] == .string(Data("s3cret".utf8).base64EncodedString()))
        #expect(byKind["Secret"]?["type"] == "Opaque")
        let deployment = try #require(byKind["Deployment"])
        #expect(deployment["apiVersion"] == "apps/v1")
        #expect(deployment[path: ["spec", "replicas"]] == 3)
        #expect(deployment[path: ["spec", "selector", "matchLabels", "app"]] == "web")
        let container = try #require(deployment[path: ["spec", "template", "spec", "containers"]]?.arrayValue?.first)
        #expect(container["image"] == "nginx:1.27")
        #expect(container["ports"]?.arrayValue?.first?["containerPort"] == 80)
        // A struct held by value is `{}` when empty, as Go writes it.
        #expect(container["resources"] == .emptyObject)
        #expect(byKind["Job"]?[path: ["spec", "template", "spec", "containers"]]?.arrayValue?.first?["command"] == ["echo", "hi"])
        #expect(byKind["CronJob"]?[path: ["spec", "schedule"]] == "0 1 * * *")
        let port = try #require(byKind["Service"]?[path: ["spec", "ports"]]?.arrayValue?.first)
        #expect(port["port"] == 80)
        #expect(port["targetPort"] == 8080)
        #expect(byKind["RoleBinding"]?["subjects"]?.arrayValue?.first?["name"] == "robot")
        #expect(byKind["Role"]?["rules"]?.arrayValue?.first?["verbs"] == ["get", "list"])
        #expect(byKind["ResourceQuota"]?[path: ["spec", "hard", "pods"]] == "10")
        #expect(byKind["PriorityClass"]?["value"] == 1000)
        #expect(byKind["Ingress"]?[path: ["spec", "rules"]]?.arrayValue?.first?["host"] == "example.com")
        #expect(byKind["TokenRequest"]?["apiVersion"] == "authentication.k8s.io/v1")
        let budgets = try requests.map { try codec.decode($0.body) }.filter { $0["kind"] == "PodDisruptionBudget" }
        #expect(budgets.compactMap { $0[path: ["spec", "minAvailable"]] } == [1])
        #expect(budgets.compactMap { $0[path: ["spec", "maxUnavailable"]] } == ["50%"])
    }

    @Test func bodiesKubeControllerManagerSentDecode() throws {
        let requests = try recorded("kube-controller-manager-1.35.jsonl")
        #expect(requests.count >= 10)
        var kinds: Set<String> = []
        var observedGenerations: [JSON] = []
        for request in requests {
            let object = try codec.decode(request.body)
            let kind = object["kind"]?.stringValue ?? ""
            kinds.insert(kind)
            switch kind {
            case "Pod":
                // The pods a ReplicaSet or Job makes: owned, templated, with Go's zero status.
                #expect(object[path: ["metadata", "ownerReferences"]]?.arrayValue?.first?["controller"] == true)
                #expect(object[path: ["spec", "containers"]]?.arrayValue?.first?["image"] != nil)
                #expect(object["status"] == .emptyObject)
            case "ReplicaSet":
                #expect(object[path: ["spec", "replicas"]] == 3)
                #expect(object[path: ["metadata", "labels", "pod-template-hash"]] != nil)
            case "Deployment":
                #expect(object[path: ["spec", "replicas"]] == 3)
                observedGenerations.append(object[path: ["status", "observedGeneration"]] ?? .null)
            case "Event":
                #expect(object["involvedObject"]?["kind"] != nil)
                #expect(object["reason"]?.stringValue?.isEmpty == false)
            default:
                break
            }
        }
        #expect(kinds.isSuperset(of: ["Pod", "ReplicaSet", "Deployment", "Event", "Job"]), "\(kinds)")
        #expect(observedGenerations.contains(1), "\(observedGenerations)")
    }

    /// A value for every field of a message, none of them zero, so that reading the bytes back
    /// must give every member again. Fields Go holds by pointer, and lists and maps, stop
    /// below `depth` 3 (schemas nest themselves).
    func sample(_ type: String, depth: Int = 0) -> JSON {
        guard let message = schema.messages[type] else { return .null }
        if let form = message.form {
            switch form {
            case .time: return "2024-01-02T03:04:05Z"
            case .microtime: return "2024-01-02T03:04:05.123456Z"
            case .duration: return "1m30s"
            case .intorstring: return depth % 2 == 0 ? "25%" : 7
            case .quantity: return "250m"
            case .raw: return ["a": 1]
            case .array: return ["x", "y"]
            case .schemaOrArray, .schemaOrBool, .schemaOrStringArray:
                return depth > 2 ? (form == .schemaOrBool ? true : form == .schemaOrStringArray ? ["p"] : .null)
                                 : sample(message.fields.values.first { $0.kind == UInt8(ascii: "m") }!.messageType, depth: depth + 1)
            }
        }
        var members: [String: JSON] = [:]
        for field in message.ordered {
            let nested = field.pointer || field.shape != .single
            if nested, depth > 2, field.kind == UInt8(ascii: "m") {
                // Left empty: Go writes a list or map without omitempty as null.
                if field.shape != .single, !field.omitEmpty { members[field.name] = .null }
                continue
            }
            var value: JSON
            switch field.kind {
            case UInt8(ascii: "s"): value = .string("v\(field.number)")
            case UInt8(ascii: "b"): value = .string(Data("b\(field.number)".utf8).base64EncodedString())
            case UInt8(ascii: "t"): value = true
            case UInt8(ascii: "d"), UInt8(ascii: "e"): value = .double(1.5)
            case UInt8(ascii: "m"): value = sample(field.messageType, depth: depth + 1)
            default: value = .int(Int64(field.number) + 1)
            }
            if value == .null { continue }
            if field.inline {
                for (k, v) in value.objectValue ?? [:] { members[k] = v }
                continue
            }
            switch field.shape {
            case .single: members[field.name] = value
            case .repeated: members[field.name] = [value]
            case .map: members[field.name] = ["k": value]
            }
        }
        return .object(members)
    }

    @Test func everyFieldOfEveryServedKindSurvivesProtobuf() throws {
        var checked = 0
        for (kind, type) in schema.kinds.sorted(by: { $0.key < $1.key }) where !kind.hasPrefix("meta.k8s.io/") {
            let parts = kind.split(separator: "/", omittingEmptySubsequences: false)
            let apiVersion = parts[0].isEmpty ? String(parts[1]) : "\(parts[0])/\(parts[1])"
            guard case .object(var object) = sample(type) else { Issue.record("no sample for \(kind)"); continue }
            object["apiVersion"] = .string(apiVersion)
            object["kind"] = .string(String(parts[2]))
            let bytes = try #require(codec.encode(.object(object)), "\(kind) has no message")
            let back = try codec.decode(bytes)
            #expect(back == .object(object), "\(kind) changed on its way through protobuf")
            checked += 1
        }
        #expect(checked > 250)
    }

    @Test func zeroAndAbsentAreKeptApartAsGoKeepsThem() throws {
        // A Deployment with nothing set but its name: replicas (a pointer) stays absent, the
        // template (a struct) is there with Go's zero values, lists without omitempty are null.
        var empty = WireBuilder()
        empty.field(1, WireBuilder.message { $0.field(1, "bare") })
        let bare = try codec.decode(envelope("apps/v1", "Deployment", empty.bytes))
        #expect(bare[path: ["spec", "replicas"]] == nil)
        #expect(bare[path: ["spec", "template", "metadata", "creationTimestamp"]] == .null)
        #expect(bare[path: ["spec", "template", "spec", "containers"]] == .null)
        #expect(bare[path: ["spec", "minReadySeconds"]] == nil)
        #expect(bare["status"] == .emptyObject)
        // Zero values that are on the wire: a pointer keeps its zero, omitempty drops it.
        var zeros = WireBuilder()
        zeros.field(1, WireBuilder.message { $0.field(1, "zeros") })
        zeros.field(2, WireBuilder.message { spec in spec.field(1, 0); spec.field(5, 0); spec.field(7, 0) })
        let decoded = try codec.decode(envelope("apps/v1", "Deployment", zeros.bytes))
        #expect(decoded[path: ["spec", "replicas"]] == 0)
        #expect(decoded[path: ["spec", "minReadySeconds"]] == nil)
        #expect(decoded[path: ["spec", "paused"]] == nil)
        // A Service port's number has no omitempty: 0 stays.
        let service = try codec.decode(envelope("v1", "Service", WireBuilder.message { s in
            s.field(2, WireBuilder.message { spec in spec.field(1, WireBuilder.message { $0.field(1, "http") }) })
        }))
        #expect(service[path: ["spec", "ports"]]?.arrayValue?.first?["port"] == 0)
        #expect(service[path: ["spec", "ports"]]?.arrayValue?.first?["targetPort"] == 0)
    }

    @Test func metaKindsDecodeInEveryGroupVersion() throws {
        let options = WireBuilder.message { $0.field(1, 30); $0.field(4, "Foreground") }
        for apiVersion in ["v1", "apps/v1", "batch/v1", "apiextensions.k8s.io/v1", "networking.k8s.io/v1", "meta.k8s.io/v1"] {
            let decoded = try codec.decode(envelope(apiVersion, "DeleteOptions", options))
            #expect(decoded["gracePeriodSeconds"] == 30, "\(apiVersion)")
            #expect(decoded["propagationPolicy"] == "Foreground")
        }
        let crd = try codec.decode(envelope("apiextensions.k8s.io/v1", "CustomResourceDefinition", WireBuilder.message {
            $0.field(1, WireBuilder.message { $0.field(1, "widgets.example.com") })
        }))
        #expect(crd[path: ["metadata", "name"]] == "widgets.example.com")
        let status = try #require(codec.encode(StatusError.notFoundPath("/x").status))
        #expect(try codec.decode(status)["code"] == 404)
    }

    @Test func aWatchFrameCarriesTheEventAndTheEnvelopedObject() throws {
        let object: JSON = ["apiVersion": "v1", "kind": "ConfigMap",
                            "metadata": ["name": "c", "namespace": "d", "resourceVersion": "12", "creationTimestamp": "2024-01-02T03:04:05Z"],
                            "data": ["k": "v"]]
        let frame = try #require(codec.watchFrame(type: "MODIFIED", object: object))
        let length = Int(frame[0]) << 24 | Int(frame[1]) << 16 | Int(frame[2]) << 8 | Int(frame[3])
        #expect(length == frame.count - 4)
        var event = ProtobufReader(frame[4...])
        var type = "", raw: ArraySlice<UInt8> = []
        while let (number, _) = try event.nextTag() {
            let value = try event.lengthDelimited()
            if number == 1 { type = String(decoding: value, as: UTF8.self) }
            if number == 2 {
                var extensionReader = ProtobufReader(value)
                _ = try extensionReader.nextTag()
                raw = try extensionReader.lengthDelimited()
            }
        }
        #expect(type == "MODIFIED")
        #expect(Array(raw.prefix(4)) == KubernetesProtobuf.magic)
        #expect(try codec.decode(Array(raw)) == object)
    }

    @Test func aListWrittenItemByItemIsTheListMessage() throws {
        let items: [JSON] = (0..<3).map { i in
            ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": .string("c\(i)"), "namespace": "d"], "data": ["k": .string("\(i)")]]
        }
        let metadata: JSON = ["resourceVersion": "42", "continue": "next", "remainingItemCount": 7]
        let bytes = try #require(codec.encodeList(apiVersion: "v1", kind: "ConfigMapList", metadata: metadata, items: items))
        let whole: JSON = ["apiVersion": "v1", "kind": "ConfigMapList", "metadata": metadata, "items": .array(items)]
        #expect(bytes == codec.encode(whole))
        let back = try codec.decode(bytes)
        #expect(back["metadata"] == metadata)
        #expect(back["items"]?.arrayValue?.map { $0[path: ["metadata", "name"]] } == ["c0", "c1", "c2"])
        #expect(codec.encodeList(apiVersion: "example.com/v1", kind: "WidgetList", metadata: metadata, items: []) == nil)
    }

    @Test func aTimeGoCannotWriteIsRefusedNotTrapped() throws {
        // metadata.creationTimestamp with seconds = Int64.max: formatting it once trapped.
        var hostile = WireBuilder()
        hostile.field(1, WireBuilder.message { m in
            m.field(1, "t")
            m.field(8, WireBuilder.message { $0.field(1, UInt64(Int64.max)) })
        })
        #expect { try codec.decode(envelope("v1", "ConfigMap", hostile.bytes)) } throws: { ($0 as? StatusError)?.code == 400 }
        var year9999 = WireBuilder()
        year9999.field(1, WireBuilder.message { m in
            m.field(1, "t")
            m.field(8, WireBuilder.message { $0.field(1, 253_402_300_799) })
        })
        #expect(try codec.decode(envelope("v1", "ConfigMap", year9999.bytes))[path: ["metadata", "creationTimestamp"]] == "9999-12-31T23:59:59Z")
    }

    /// Two bytes of an empty list element decode to a whole Go zero value: 300,000 empty
    /// containers in a 600 KB body would be millions of members.
    @Test func zeroValueAmplificationIsBounded() throws {
        var spec = WireBuilder()
        for _ in 0..<300_000 { spec.field(2, [UInt8]()) }
        let pod = envelope("v1", "Pod", WireBuilder.message { p in
            p.field(1, WireBuilder.message { $0.field(1, "wide") })
            p.field(2, spec.bytes)
        })
        #expect { try codec.decode(pod) } throws: { ($0 as? StatusError)?.code == 413 }
    }

    /// Objects embedded in protobuf (a RawExtension holding an envelope) count towards the
    /// same nesting limit as the body around them.
    @Test func embeddedObjectsShareTheNestingLimit() throws {
        var inner = WireBuilder.message { $0.field(1, WireBuilder.message { $0.field(1, "leaf") }) }
        for _ in 0..<120 {
            let revision = WireBuilder.message { r in
                r.field(1, WireBuilder.message { $0.field(1, "r") })
                r.field(2, WireBuilder.message { $0.field(1, envelope("apps/v1", "ControllerRevision", inner)) })
            }
            inner = revision
        }
        #expect { try codec.decode(envelope("apps/v1", "ControllerRevision", inner)) } throws: { ($0 as? StatusError)?.code == 400 }
    }

    @Test func deepNestingIsRefused() throws {
        var inner: [UInt8] = []
        for _ in 0..<200 { inner = WireBuilder.message { $0.field(28, inner) } }   // JSONSchemaProps.not
        let crd = envelope("apiextensions.k8s.io/v1", "CustomResourceDefinition", WireBuilder.message { c in
            c.field(2, WireBuilder.message { spec in
                spec.field(7, WireBuilder.message { v in
                    v.field(4, WireBuilder.message { $0.field(1, inner) })
                })
            })
        })
        #expect { try codec.decode(crd) } throws: { ($0 as? StatusError)?.code == 400 }
    }

    @Test func acceptHeadersAreNegotiatedAsKubeAPIServerDoes() throws {
        let protobuf = KubernetesProtobuf.mediaType
        func pick(_ accept: String?, protobuf: Bool = true, verb: RequestInfo.Verb = .get) throws -> ResponseFormat {
            try ResponseFormat.negotiate(accept: accept, protobuf: protobuf, targets: KubernetesAPI.conversions(verb))
        }
        #expect(try pick(nil) == .json)
        #expect(try pick("*/*").encoding == .json)
        #expect(try pick("\(protobuf), application/json").encoding == .protobuf)
        // Custom resources have no protobuf: the JSON offer is taken.
        #expect(try pick("\(protobuf), application/json", protobuf: false).encoding == .json)
        #expect(try pick("\(protobuf);q=0.5, application/json").encoding == .json)
        #expect(try pick("application/json;q=0.2, \(protobuf);q=0.9").encoding == .protobuf)
        #expect { try pick("text/html") } throws: { ($0 as? StatusError)?.code == 406 }
        #expect { try pick(protobuf, protobuf: false) } throws: { ($0 as? StatusError)?.code == 406 }
        let metadata = try pick("\(protobuf);as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json")
        #expect(metadata == ResponseFormat(encoding: .protobuf, target: .partialObjectMetadata))
        // A list cannot be answered as one PartialObjectMetadata: the next offer is taken.
        #expect(try pick("application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json", verb: .list) == .json)
        #expect(try pick("application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1", verb: .list).target == .partialObjectMetadataList)
        #expect(try pick("application/json;as=Table;g=meta.k8s.io;v=v1").target == .table)
        // Tables have no protobuf form, and unknown conversions are not served.
        #expect { try pick("\(protobuf);as=Table;g=meta.k8s.io;v=v1") } throws: { ($0 as? StatusError)?.code == 406 }
        #expect { try pick("application/json;as=Widget;g=meta.k8s.io;v=v1") } throws: { ($0 as? StatusError)?.code == 406 }
    }

    func envelope(_ apiVersion: String, _ kind: String, _ raw: [UInt8]) -> [UInt8] {
        KubernetesProtobuf.magic + WireBuilder.message { w in
            w.field(1, WireBuilder.message { t in
                t.field(1, apiVersion)
                t.field(2, kind)
            })
            w.field(2, raw)
        }
    }
}
