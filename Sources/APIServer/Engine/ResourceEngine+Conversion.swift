extension ResourceEngine {
    /// A stored object at the version the request serves, for a resource whose versions
    /// convert through a call (a conversion webhook); others are converted by
    /// ``ResourceStrategy/present(_:)`` alone.
    func served(_ object: JSON, _ request: ResourceRequest) async throws -> JSON {
        guard let conversion = request.strategy.conversion else { return object }
        return try await conversion.served([object]).first ?? object
    }

    /// `current`'s object at the request's version: `known` when the caller converted it
    /// already (one conversion call per write, not one per step).
    func served(_ current: StoredObject, _ request: ResourceRequest, known: JSON?) async throws -> JSON {
        if let known { return known }
        return try await served(current.object, request)
    }

    /// An object written at the request's version, at the version it is stored at.
    func storable(_ object: JSON, _ request: ResourceRequest) async throws -> JSON {
        guard let conversion = request.strategy.conversion else { return object }
        return try await conversion.stored(object)
    }

    /// What a committed write answers: the stored object, or, for a resource that converts
    /// through a call, the object as written at the request's version with the stored
    /// metadata (a failed call must not turn a committed write into an error).
    func answered(_ written: JSON, stored: JSON, _ request: ResourceRequest) -> JSON {
        guard request.strategy.conversion != nil else { return stored }
        var answer = written
        answer["metadata"] = stored["metadata"]
        return answer
    }

    /// A page's objects as the request's version serves them, converted in one call when the
    /// resource needs one; nil when ``ListPage/objects()`` gives them.
    func convertedObjects(_ page: ListPage, _ request: ResourceRequest) async throws -> [JSON]? {
        guard let conversion = request.strategy.conversion else { return nil }
        return try await conversion.served(try page.entries.map { try $0.decoded() }).map { object in
            var object = object
            request.strategy.present(&object)
            return object
        }
    }
}
