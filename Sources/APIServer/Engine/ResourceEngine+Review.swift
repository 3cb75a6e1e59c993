extension ResourceEngine {
    /// POST to a resource that is not stored (the authentication and authorization reviews,
    /// `bindings`): the kind's strategy answers it.
    func review(_ request: ResourceRequest) async throws -> HTTPResponse {
        var object = try request.bodyObject()
        try Self.checkTypeMeta(&object, request.resource)
        var metadata = object["metadata"] ?? .emptyObject
        metadata["creationTimestamp"] = .null
        object["metadata"] = metadata
        guard let answer = try await request.strategy.answerCreate(object, request, engine: self) else {
            throw StatusError.methodNotAllowed("the server does not allow this method on the requested resource")
        }
        return answer
    }
}
