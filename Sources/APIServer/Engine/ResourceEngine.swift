import Foundation
import Logging

/// The generic, schema-driven resource engine: every resource, built-in or custom, is served
/// by these verbs from its descriptor and strategy. One file per verb.
public struct ResourceEngine: Sendable {
    public let store: any ObjectStore
    /// The served resources (for the resources a request touches besides its own).
    let catalog: ResourceCatalog
    /// Each kind's own behaviour.
    public let kinds: KindRegistry
    /// The structural schemas (strategic merge patch).
    let definitions: SchemaDefinitions
    /// The built-in admission plugins every create and update passes.
    let admission: AdmissionChain
    let logger: Logger
    /// How often a watch sends a bookmark when asked for them.
    var bookmarkInterval: Duration = .seconds(30)
    /// Watch events already encoded, for the other watchers of the same change: at most
    /// 4,096 lines and 32 MiB.
    let watchEvents = RecentValues<WatchLineKey, [UInt8]>(capacity: 4096, maxCost: 32 << 20) { $0.count }
    /// Changes already parsed to check a watcher's selectors, for the other watchers (a
    /// hundred kubelets each watch pods by `spec.nodeName`).
    let watchObjects = RecentValues<StoredObjectKey, JSON>(capacity: 512)

    public init(store: any ObjectStore, catalog: ResourceCatalog, kinds: KindRegistry, definitions: SchemaDefinitions,
                admission: AdmissionChain = AdmissionChain([]), logger: Logger) {
        self.admission = admission
        self.kinds = kinds
        self.catalog = catalog
        self.store = store
        self.definitions = definitions
        self.logger = logger
    }

    /// Answers a resource request.
    public func handle(_ request: ResourceRequest) async throws -> HTTPResponse {
        let response = try await serve(request)
        if let warning = request.resource.custom?.deprecationWarning { return Self.withWarnings(response, [warning]) }
        return response
    }

    private func serve(_ request: ResourceRequest) async throws -> HTTPResponse {
        let verbs = request.resource.verbs
        func allowed(_ verb: String) throws {
            if !verbs.contains(verb) {
                throw StatusError.methodNotAllowed("the server does not allow this method on the requested resource")
            }
        }
        if let sub = request.info.subresource {
            guard request.info.name != nil, request.resource.subresources.contains(sub) else {
                throw StatusError.notFoundPath(request.http.path)
            }
            // A subresource with code of its own serves itself; the others are a part of the
            // object, read and written by the object's verbs (the strategy says which part).
            if let handler = request.strategy.subresource(sub) { return try await handler.serve(request, engine: self) }
            guard request.resource.subresourceKind(sub).verbs.contains(request.info.verb.rawValue) else {
                throw StatusError.methodNotAllowed("the server does not allow this method on the requested resource")
            }
            switch request.info.verb {
            case .get: return try await get(request)
            case .update: return try await update(request)
            case .patch: return try await patch(request)
            default: throw StatusError.methodNotAllowed("the server does not allow this method on the requested resource")
            }
        }
        // A namespaced kind's all-namespaces path serves list and watch only, as kube-apiserver
        // registers it: a delete there must not reach every namespace.
        if request.resource.namespaced, request.info.namespace == nil, request.info.verb != .list, request.info.verb != .watch {
            throw StatusError.methodNotAllowed("the server does not allow this method on the requested resource")
        }
        switch request.info.verb {
        case .get: try allowed("get"); return try await get(request)
        case .list: try allowed("list"); return try await list(request)
        case .watch: try allowed("watch"); return try await watch(request)
        case .create:
            try allowed("create")
            if request.info.name != nil { throw StatusError.methodNotAllowed("the server does not allow this method on the requested resource") }
            if !request.resource.isStored { return try await review(request) }
            return try await create(request)
        case .update: try allowed("update"); return try await update(request)
        case .delete: try allowed("delete"); return try await delete(request)
        case .deletecollection: try allowed("deletecollection"); return try await deleteCollection(request)
        case .patch: try allowed("patch"); return try await patch(request)
        }
    }

    // MARK: Shared pieces

    /// Refuses a resourceVersion the store has not reached with kube-apiserver's 504, after
    /// waiting up to `patience` for it (its watch cache waits 3 s before a watch's answer).
    func requireReached(_ rv: Int64, waiting patience: Duration = .zero) async throws {
        var current = try await store.currentRevision()
        let deadline = ContinuousClock.now + patience
        while rv > current, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
            current = try await store.currentRevision()
        }
        if rv > current { throw StatusError.timeout("Too large resource version: \(rv), current: \(current)") }
    }

    /// Reads the named object or throws 404.
    func current(_ request: ResourceRequest, name: String) async throws -> StoredObject {
        guard let stored = try await store.get(request.key(name)) else {
            throw StatusError.notFound(request.resource, name: name)
        }
        return stored
    }

    /// Maps storage errors to `Status` errors.
    static func translate(_ error: any Error) -> StatusError {
        if let status = error as? StatusError { return status }
        if let store = ObjectStoreError.classify(error) { return store.status }
        return StatusError.internalError("\(error)")
    }

    /// The object as JSON, as its metadata alone or as a one-row Table.
    func render(_ object: JSON, _ request: ResourceRequest, status: Int = 200) async throws -> HTTPResponse {
        var object = try await served(object, request)
        request.strategy.present(&object)
        if request.format.target == .partialObjectMetadata {
            return answer(Self.partialObjectMetadata(object, apiVersion: request.format.metaAPIVersion), request, status: status)
        }
        if request.wantsTable {
            let table = request.strategy.table.table(
                [object], resourceVersion: object[path: ["metadata", "resourceVersion"]]?.stringValue ?? "",
                includeObject: request.parameter("includeObject") ?? "Metadata")
            return .json(.init(statusCode: status), table)
        }
        return answer(object, request, status: status)
    }

    /// An object in the encoding the request negotiated: protobuf written straight from the
    /// object (no JSON text in between), JSON otherwise or for kinds without a message.
    func answer(_ object: JSON, _ request: ResourceRequest, status: Int = 200) -> HTTPResponse {
        if request.format.encoding == .protobuf, let encoded = request.protobuf?.encode(object) {
            return HTTPResponse(status: .init(statusCode: status), headers: ["Content-Type": KubernetesProtobuf.mediaType],
                                body: .bytes(encoded))
        }
        return .json(.init(statusCode: status), object)
    }

    /// An object's metadata alone, as a `PartialObjectMetadata` (what metadata-only informers,
    /// like the garbage collector's, read).
    static func partialObjectMetadata(_ object: JSON, apiVersion: String) -> JSON {
        ["apiVersion": .string(apiVersion), "kind": "PartialObjectMetadata", "metadata": object["metadata"] ?? .emptyObject]
    }

    /// The object as the schema knows it: unknown fields dropped; with `fieldValidation=Strict`
    /// unknown or duplicate fields refuse the request (400), with `Warn` (the default) they
    /// come back as warnings.
    /// An apply configuration's unknown fields are reported as server-side apply reports them
    /// (`.path: field not declared in schema`).
    func validateFields(_ object: JSON, duplicates: [String], _ request: ResourceRequest,
                        apply: Bool = false) throws -> (JSON, warnings: [String]) {
        let directive = try FieldValidation.directive(request.parameter("fieldValidation"))
        guard let name = request.resource.definition, let schema = SchemaNode(definition: name, in: definitions) else {
            return (object, [])
        }
        // Custom resources report wrong types as 422s from their schema validation instead.
        let (pruned, unknown) = try FieldValidation.prune(object, schema: schema, kind: request.resource.kind,
                                                          version: request.resource.version, checkTypes: request.resource.custom == nil)
        let problems = unknown.map { "unknown field \"\($0)\"" } + duplicates.map { "duplicate field \"\($0)\"" }
        switch directive {
        case .strict where apply && !unknown.isEmpty:
            let gvk = "\(request.resource.groupVersion), Kind=\(request.resource.kind)"
            throw StatusError.badRequest("failed to create typed patch object (\(gvk)): "
                                         + unknown.map { ".\($0): field not declared in schema" }.joined(separator: ", "))
        case .strict where !problems.isEmpty:
            let kind = request.resource.kind
            throw StatusError.badRequest("\(kind) in version \"\(request.resource.version)\" cannot be handled as a \(kind): strict decoding error: "
                                         + problems.joined(separator: ", "))
        case .warn: return (pruned, problems)
        default: return (pruned, [])
        }
    }

    /// The schema of a resource's kind.
    func schema(of resource: ResourceDescriptor) -> SchemaNode? {
        resource.definition.flatMap { SchemaNode(definition: $0, in: definitions) }
    }

    /// The schema of an OpenAPI definition (a subresource's kind).
    func schema(definition: String) -> SchemaNode? { SchemaNode(definition: definition, in: definitions) }

    /// The manager a write is recorded under: `fieldManager`, or the user agent's name.
    func fieldManager(_ request: ResourceRequest) -> String {
        if let manager = request.parameter("fieldManager"), !manager.isEmpty { return manager }
        return ManagedFields.defaultManager(userAgent: request.http.headers.first(name: "user-agent"))
    }

    /// Adds `Warning` headers (RFC 7234 code 299) to a response.
    static func withWarnings(_ response: HTTPResponse, _ warnings: [String]) -> HTTPResponse {
        var response = response
        for warning in warnings {
            response.headers.add(name: "Warning", value: "299 - \"\(headerQuoted(warning))\"")
        }
        return response
    }

    /// Text made safe inside a quoted header value: backslashes and quotes escaped, and
    /// control characters (which HTTP forbids in headers; a request's field names may hold
    /// them) written as Go writes them in a quoted string (`\x00`, `\n`).
    static func headerQuoted(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                let hex = String(scalar.value, radix: 16)
                out += "\\x" + (hex.count < 2 ? "0" + hex : hex)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// A parsed `resourceVersion` query value (nil when unset or empty).
    static func resourceVersion(_ text: String?) throws -> Int64? {
        guard let text, !text.isEmpty else { return nil }
        guard let value = Int64(text), value >= 0 else {
            throw StatusError.badRequest("invalid resource version \"\(text)\"")
        }
        return value
    }

    static func newUID() -> String { UUID().uuidString.lowercased() }
    static func now() -> String { RFC3339.string(Date()) }
}
