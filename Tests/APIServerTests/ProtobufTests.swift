import Testing
@testable import APIServer

/// Builds protobuf wire bytes for the tests.
struct WireBuilder {
    var bytes: [UInt8] = []

    mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    mutating func field(_ number: Int, _ value: UInt64) {
        varint(UInt64(number << 3))
        varint(value)
    }

    mutating func field(_ number: Int, _ value: [UInt8]) {
        varint(UInt64(number << 3 | 2))
        varint(UInt64(value.count))
        bytes += value
    }

    mutating func field(_ number: Int, _ text: String) { field(number, Array(text.utf8)) }

    static func message(_ build: (inout WireBuilder) -> Void) -> [UInt8] {
        var writer = WireBuilder()
        build(&writer)
        return writer.bytes
    }
}

@Suite(.timeLimit(.minutes(10))) struct ProtobufTests {
    let decoder = KubernetesProtobuf(schema: try! ProtobufSchema.builtIn())

    func envelope(apiVersion: String, kind: String, raw: [UInt8]) -> [UInt8] {
        KubernetesProtobuf.magic + WireBuilder.message { w in
            w.field(1, WireBuilder.message { t in
                t.field(1, apiVersion)
                t.field(2, kind)
            })
            w.field(2, raw)
        }
    }

    @Test func decodesAConfigMapWithMetadataMapsAndTimes() throws {
        let meta = WireBuilder.message { m in
            m.field(1, "settings")
            m.field(2, "")                      // empty strings are Go zero values: left out
            m.field(7, 0)
            m.field(8, WireBuilder.message { t in t.field(1, 1_700_000_000) })
            m.field(11, WireBuilder.message { e in e.field(1, "app"); e.field(2, "web") })
        }
        let raw = WireBuilder.message { c in
            c.field(1, meta)
            c.field(2, WireBuilder.message { e in e.field(1, "k"); e.field(2, "v") })
            c.field(3, WireBuilder.message { e in e.field(1, "bin"); e.field(2, [0, 1, 2]) })
        }
        let object = try decoder.decode(envelope(apiVersion: "v1", kind: "ConfigMap", raw: raw))
        #expect(object["kind"] == "ConfigMap")
        #expect(object[path: ["metadata", "name"]] == "settings")
        #expect(object[path: ["metadata", "generateName"]] == nil)
        #expect(object[path: ["metadata", "generation"]] == nil)
        #expect(object[path: ["metadata", "creationTimestamp"]] == "2023-11-14T22:13:20Z")
        #expect(object[path: ["metadata", "labels"]] == ["app": "web"])
        #expect(object["data"] == ["k": "v"])
        #expect(object["binaryData"] == ["bin": "AAEC"])
    }

    @Test func decodesIntOrStringAndKeepsMeaningfulZeros() throws {
        let spec = WireBuilder.message { s in
            s.field(1, 0)                       // replicas: 0 is meaningful
            s.field(5, 0)                       // minReadySeconds: 0 is not
            s.field(4, WireBuilder.message { st in
                st.field(1, "RollingUpdate")
                st.field(2, WireBuilder.message { r in
                    r.field(1, WireBuilder.message { i in i.field(1, 1); i.field(3, "25%") })
                    r.field(2, WireBuilder.message { i in i.field(1, 0); i.field(2, 2) })
                })
            })
        }
        let raw = WireBuilder.message { d in
            d.field(1, WireBuilder.message { m in m.field(1, "web") })
            d.field(2, spec)
        }
        let object = try decoder.decode(envelope(apiVersion: "apps/v1", kind: "Deployment", raw: raw))
        #expect(object[path: ["spec", "replicas"]] == 0)
        #expect(object[path: ["spec", "minReadySeconds"]] == nil)
        #expect(object[path: ["spec", "strategy", "rollingUpdate", "maxUnavailable"]] == "25%")
        #expect(object[path: ["spec", "strategy", "rollingUpdate", "maxSurge"]] == 2)
    }

    @Test func unknownKindsAndBadBytesAreClearErrorsButUnknownFieldsAreSkipped() throws {
        let unknownKind = envelope(apiVersion: "example.com/v1", kind: "Widget", raw: [])
        #expect { try decoder.decode(unknownKind) } throws: { ($0 as? StatusError)?.code == 415 }
        // A field this server does not know (a newer client's) is skipped, as Go skips it.
        let unknownField = envelope(apiVersion: "v1", kind: "ConfigMap", raw: WireBuilder.message {
            $0.field(1, WireBuilder.message { m in m.field(1, "newer") })
            $0.field(99, "x")
            $0.field(98, 7)
        })
        let decoded = try decoder.decode(unknownField)
        #expect(decoded[path: ["metadata", "name"]] == "newer")
        // A known field with the wrong wire type is refused.
        let wrongWire = envelope(apiVersion: "v1", kind: "ConfigMap", raw: WireBuilder.message { $0.field(1, 5) })
        #expect { try decoder.decode(wrongWire) } throws: { ($0 as? StatusError)?.code == 400 }
        #expect { try decoder.decode([1, 2, 3, 4, 5]) } throws: { ($0 as? StatusError)?.code == 400 }
        let truncated = Array(envelope(apiVersion: "v1", kind: "ConfigMap", raw: WireBuilder.message { $0.field(1, "abc") }).dropLast(2))
        #expect { try decoder.decode(truncated) } throws: { ($0 as? StatusError)?.code == 400 }
    }

    @Test func durationsReadAsGoPrintsThem() {
        #expect(KubernetesProtobuf.goDuration(nanoseconds: 3_723_000_000_000) == "1h2m3s")
        #expect(KubernetesProtobuf.goDuration(nanoseconds: 1_500_000_000) == "1.5s")
        #expect(KubernetesProtobuf.goDuration(nanoseconds: 300_000_000) == "300ms")
    }
}
