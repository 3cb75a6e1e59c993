extension ResourceEngine {
    /// GET of one object (also of its status subresource): the newest state, which is "not
    /// older than" any `resourceVersion` given; one newer than the store's is a 504.
    func get(_ request: ResourceRequest) async throws -> HTTPResponse {
        let name = try request.name()
        if let rv = try Self.resourceVersion(request.parameter("resourceVersion")), rv > 0 {
            try await requireReached(rv)
        }
        return try await render(try await current(request, name: name).object, request)
    }
}
