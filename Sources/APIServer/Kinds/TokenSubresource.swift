import Foundation

/// POST `serviceaccounts/NAME/token` (TokenRequest): a signed token for the service
/// account, for the audiences asked (the API's by default), expiring after
/// `expirationSeconds` (default 1 h, at least 10 min), optionally bound to a Pod or Secret.
struct TokenSubresource: SubresourceHandler {
    let tokens: ServiceAccountTokenAuthenticator

    func serve(_ request: ResourceRequest, engine: ResourceEngine) async throws -> HTTPResponse {
        guard request.info.verb == .create else {
            throw StatusError.methodNotAllowed("the server does not allow this method on the requested resource")
        }
        let name = try request.name(), namespace = request.info.namespace ?? ""
        let body = request.http.body.isEmpty ? JSON.emptyObject : try request.bodyObject()
        let account = try await engine.current(request, name: name)
        let spec = body["spec"] ?? .emptyObject
        let seconds = spec["expirationSeconds"]?.intValue ?? 3600
        var causes: [StatusError.Cause] = []
        if seconds < 600 { causes.append(.init(field: "spec.expirationSeconds", message: "Invalid value: \(seconds): may not specify a duration less than 10 minutes")) }
        if seconds > 1 << 32 { causes.append(.init(field: "spec.expirationSeconds", message: "Invalid value: \(seconds): may not specify a duration larger than 2^32 seconds")) }
        var bound: (kind: String, name: String, uid: String)?
        if let reference = spec["boundObjectRef"], reference != .null {
            let kind = reference["kind"]?.stringValue ?? ""
            let boundName = reference["name"]?.stringValue ?? ""
            if !["Pod", "Secret"].contains(kind) {
                causes.append(.init(field: "spec.boundObjectRef.kind", type: "FieldValueNotSupported",
                                    message: "Unsupported value: \"\(kind)\": supported values: \"Pod\", \"Secret\""))
            } else {
                let plural = kind == "Pod" ? "pods" : "secrets"
                let key = RegistryKey(group: "", resource: plural, namespace: namespace, name: boundName).path
                guard let object = try await engine.store.get(key) else {
                    throw StatusError(code: 404, reason: "NotFound", message: "\(plural) \"\(boundName)\" not found",
                                      details: ["name": .string(boundName), "kind": .string(plural)])
                }
                let uid = object.object[path: ["metadata", "uid"]]?.stringValue ?? ""
                if let wanted = reference["uid"]?.stringValue, !wanted.isEmpty, wanted != uid {
                    throw StatusError.conflict(request.resource, name: name, why: "the UID in the bound object reference (\(wanted)) does not match the \(kind.lowercased())'s (\(uid))")
                }
                bound = (kind, boundName, uid)
            }
        }
        if !causes.isEmpty { throw StatusError.invalid(kind: "TokenRequest", group: "authentication.k8s.io", name: name, causes: causes) }
        let audiences = (spec["audiences"]?.arrayValue ?? []).compactMap(\.stringValue)
        let chosen = audiences.isEmpty ? ServiceAccountTokens.apiAudiences : audiences
        let issued = try tokens.tokens.issue(namespace: namespace, name: name,
                                             uid: account.object[path: ["metadata", "uid"]]?.stringValue ?? "",
                                             audiences: chosen, seconds: seconds, boundObject: bound)
        var answer: JSON = ["kind": "TokenRequest", "apiVersion": "authentication.k8s.io/v1",
                            "metadata": ["name": .string(name), "namespace": .string(namespace), "creationTimestamp": .string(ResourceEngine.now())]]
        answer["spec"] = ["audiences": .array(chosen.map { .string($0) }), "expirationSeconds": .int(seconds),
                          "boundObjectRef": bound.map { ["kind": .string($0.kind), "apiVersion": "v1", "name": .string($0.name), "uid": .string($0.uid)] } ?? .null]
        answer["status"] = ["token": .string(issued.token), "expirationTimestamp": .string(RFC3339.string(issued.expires))]
        return .json(.created, answer)
    }
}
