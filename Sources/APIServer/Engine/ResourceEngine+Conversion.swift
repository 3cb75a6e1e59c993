extension ResourceEngine {
    /// A stored object at the version the request serves, for a resource whose versions
    /// convert through a call (a conversion webhook); others are converted by
    /// ``ResourceStrategy/present(_:)`` alone.
    func served(_ object: JSON, _ request: ResourceRequest) async throws -> JSON {
        guard let conversion = request.strategy.conversion else { return object }
        return try await conversion.served([object]).first ?? object
    }

    /// An object written at the request's version, at the version it is stored at.
    func storable(_ object: JSON, _ request: ResourceRequest) async throws -> JSON {
        guard let conversion = request.strategy.conversion else { return object }
        return try await conversion.stored(object)
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
