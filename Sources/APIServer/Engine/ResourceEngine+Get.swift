extension ResourceEngine {
    /// GET of one object (also of its status subresource): the newest state, or the state at
    /// `resourceVersion` when one is given.
    func get(_ request: ResourceRequest) async throws -> HTTPResponse {
        let name = request.info.name!
        let stored: StoredObject?
        if let rv = try Self.resourceVersion(request.parameter("resourceVersion")), rv > 0 {
            let current = try await store.currentRevision()
            if rv > current { throw StatusError.timeout("Too large resource version: \(rv), current: \(current)") }
            stored = try await store.get(request.key(name))
        } else {
            stored = try await store.get(request.key(name))
        }
        guard let stored else { throw StatusError.notFound(request.resource, name: name) }
        return render(stored.object, request)
    }
}
