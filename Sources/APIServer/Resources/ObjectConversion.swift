/// Converts a resource's objects between its versions when that takes a call (a custom
/// resource whose definition names a conversion webhook). Conversions that only rename the
/// `apiVersion` are done in place by the strategy (``ResourceStrategy/present(_:)``) and
/// need none.
public protocol ObjectConversion: Sendable {
    /// Stored objects as the request's version serves them (objects already at it pass as they are).
    func served(_ objects: [JSON]) async throws -> [JSON]
    /// An object written at the request's version, as it is stored.
    func stored(_ object: JSON) async throws -> JSON
}
