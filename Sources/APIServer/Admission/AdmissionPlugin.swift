/// A built-in admission check: it may change the object on its way to the store
/// (defaulting), refuse the write with a `Status` error, add warnings for the client, or ask
/// for writes that must commit together with it.
public protocol AdmissionPlugin: Sendable {
    func admit(_ object: inout JSON, _ request: AdmissionRequest) async throws -> AdmissionOutcome
    /// Checks a delete of `request.old` (there is no new object); may refuse it.
    func admitDelete(_ request: AdmissionRequest) async throws -> AdmissionOutcome
}

extension AdmissionPlugin {
    /// Most built-in plugins let every delete through.
    public func admitDelete(_ request: AdmissionRequest) async throws -> AdmissionOutcome { .none }
}

/// What admission adds to a write besides changes to the object.
public struct AdmissionOutcome: Sendable {
    /// Writes that commit in the same transaction as a create (quota usage).
    public var writes: [ConditionalWrite] = []
    /// Warnings for the client (`Warning` headers).
    public var warnings: [String] = []
    /// Annotations for the request's audit event.
    public var auditAnnotations: [String: String] = [:]
    /// Whether a mutating webhook changed the object (the engine then validates it again).
    public var mutatedByWebhook = false

    public init(writes: [ConditionalWrite] = [], warnings: [String] = [], auditAnnotations: [String: String] = [:]) {
        self.writes = writes
        self.warnings = warnings
        self.auditAnnotations = auditAnnotations
    }

    /// The response with the warnings and audit annotations added.
    func applied(to response: HTTPResponse) -> HTTPResponse {
        var response = ResourceEngine.withWarnings(response, warnings)
        response.auditAnnotations.merge(auditAnnotations) { $1 }
        return response
    }

    /// Nothing to add.
    public static let none = AdmissionOutcome()

    mutating func add(_ other: AdmissionOutcome) {
        writes += other.writes
        warnings += other.warnings
        auditAnnotations.merge(other.auditAnnotations) { $1 }
        mutatedByWebhook = mutatedByWebhook || other.mutatedByWebhook
    }
}

/// The plugins in the order kube-apiserver runs them: the mutating ones first, then the
/// validating ones, quota last (it charges only what the others let through).
public struct AdmissionChain: Sendable {
    let plugins: [any AdmissionPlugin]

    public init(_ plugins: [any AdmissionPlugin]) {
        self.plugins = plugins
    }

    public func admit(_ object: inout JSON, _ request: AdmissionRequest) async throws -> AdmissionOutcome {
        var outcome = AdmissionOutcome()
        for plugin in plugins { outcome.add(try await plugin.admit(&object, request)) }
        return outcome
    }

    /// Runs every plugin's delete check, in order.
    public func admitDelete(_ request: AdmissionRequest) async throws -> AdmissionOutcome {
        var outcome = AdmissionOutcome()
        for plugin in plugins { outcome.add(try await plugin.admitDelete(request)) }
        return outcome
    }
}
