/// A built-in admission check: it may change the object on its way to the store
/// (defaulting), refuse the write with a `Status` error, or ask for writes that must commit
/// together with it.
public protocol AdmissionPlugin: Sendable {
    func admit(_ object: inout JSON, _ request: AdmissionRequest) async throws -> [ConditionalWrite]
}

/// The plugins in the order kube-apiserver runs them: the mutating ones first, then the
/// validating ones, quota last (it charges only what the others let through).
public struct AdmissionChain: Sendable {
    let plugins: [any AdmissionPlugin]

    public init(_ plugins: [any AdmissionPlugin]) {
        self.plugins = plugins
    }

    public func admit(_ object: inout JSON, _ request: AdmissionRequest) async throws -> [ConditionalWrite] {
        var writes: [ConditionalWrite] = []
        for plugin in plugins { writes += try await plugin.admit(&object, request) }
        return writes
    }
}
