/// One request to the resource engine: what it addresses, the resource's descriptor, and the
/// HTTP request with its authenticated user.
public struct ResourceRequest: Sendable {
    public var info: RequestInfo
    public var resource: ResourceDescriptor
    /// The behaviour of the resource's kind (from the engine's ``KindRegistry``).
    public var strategy: any ResourceStrategy
    public var http: HTTPRequest
    public var user: UserInfo
    /// Reads protobuf request bodies of typed clients.
    public var protobuf: KubernetesProtobuf?
    /// What the answer is written as (negotiated from `Accept`).
    public var format: ResponseFormat = .json

    /// Whether the client asked for server-side Table output.
    public var wantsTable: Bool { format.target == .table }

    public var dryRun: Bool { http.query["dryRun"]?.contains("All") ?? false }

    public func parameter(_ name: String) -> String? { http.parameter(name) }

    /// The name the request addresses; a 405 for a verb that needs one on a collection path.
    public func name() throws -> String {
        guard let name = info.name, !name.isEmpty else {
            throw StatusError.methodNotAllowed("the server does not allow this method on the requested resource")
        }
        return name
    }

    /// The namespace of a namespaced request (`nil` for cluster-scoped resources or
    /// all-namespace lists).
    public var namespace: String? { resource.namespaced ? info.namespace : nil }

    /// This request (its user, query and HTTP request) addressed to `name` of another
    /// resource, with that resource's strategy: a handler that writes another object through
    /// the engine's pipeline (a Binding's pod, an eviction's budget) sends this.
    public func addressing(_ resource: ResourceDescriptor, name: String, subresource: String?, kinds: KindRegistry) -> ResourceRequest {
        var other = self
        other.resource = resource
        other.strategy = kinds.strategy(for: resource)
        other.info.group = resource.group
        other.info.version = resource.version
        other.info.resource = resource.plural
        other.info.name = name
        other.info.subresource = subresource
        return other
    }

    /// The storage key of the named object.
    public func key(_ name: String) -> String { resource.key(namespace: namespace, name: name) }

    /// The request body as a JSON object (sent as JSON or as Kubernetes protobuf), or a
    /// 400 `Status`.
    public func bodyObject() throws -> JSON { try decodedBody().object }

    /// The request body as a JSON object, with the paths of members given twice.
    public func decodedBody() throws -> (object: JSON, duplicates: [String]) {
        if let type = http.headers.first(name: "content-type")?.lowercased(), !type.isEmpty,
           !type.hasPrefix("application/json"), !type.hasPrefix("*/*") {
            if type.hasPrefix(KubernetesProtobuf.mediaType), let protobuf { return (try protobuf.decode(http.body), []) }
            if type.hasPrefix("application/yaml") {
                let object = try JSON.parseYAML(http.body)
                guard case .object = object else { throw StatusError.badRequest("the request body must be an object") }
                return (object, [])
            }
            throw StatusError.unsupportedMediaType(type)
        }
        let object: JSON
        let duplicates: [String]
        do {
            (object, duplicates) = try JSON.parseReportingDuplicates(http.body)
        } catch {
            throw StatusError.badRequest("the request body is not valid JSON: \(error)")
        }
        guard case .object = object else {
            throw StatusError.badRequest("the request body must be a JSON object, not \(object.typeName)")
        }
        return (object, duplicates)
    }
}
