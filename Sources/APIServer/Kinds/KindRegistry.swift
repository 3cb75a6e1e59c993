/// The strategy of every kind, by API group and kind: the one place that says which code
/// owns a kind's behaviour. Kinds nobody registered get ``DefaultStrategy``; custom resources
/// get the strategy their definition describes.
public struct KindRegistry: Sendable {
    /// Makes a kind's strategy for one of its served versions.
    public typealias Factory = @Sendable (ResourceDescriptor) -> any ResourceStrategy

    /// A kind's name in its group ("" for the core group).
    private struct GroupKind: Hashable {
        var group: String
        var kind: String
    }

    private var factories: [GroupKind: Factory] = [:]
    /// Calls the conversion webhooks of custom resources; nil: such resources answer 500.
    var webhooks: WebhookCaller?

    public init() {}

    /// Registers the strategy of `kind` in `group` ("" for the core group); a later
    /// registration of the same kind replaces the earlier one.
    public mutating func register(_ group: String, _ kind: String, _ factory: @escaping Factory) {
        factories[GroupKind(group: group, kind: kind)] = factory
    }

    /// Registers one strategy value for a kind.
    public mutating func register(_ group: String, _ kind: String, _ strategy: any ResourceStrategy) {
        register(group, kind) { _ in strategy }
    }

    /// Whether `kind` in `group` has a strategy of its own.
    public func isRegistered(_ group: String, _ kind: String) -> Bool { factories[GroupKind(group: group, kind: kind)] != nil }

    /// The strategy that serves a resource.
    public func strategy(for resource: ResourceDescriptor) -> any ResourceStrategy {
        if let custom = resource.custom {
            return CustomResourceStrategy(resource: resource, info: custom, conversion: custom.conversionWebhook.map { webhook in
                guard let webhooks else { return UnreachableConversion() }
                return ConversionWebhook(caller: webhooks, definition: webhook, resource: resource, storageVersion: custom.storageVersion)
            })
        }
        if let factory = factories[GroupKind(group: resource.group, kind: resource.kind)] { return factory(resource) }
        return DefaultStrategy(resource)
    }
}

/// The conversion of a server built without a webhook caller (some in-process tests).
struct UnreachableConversion: ObjectConversion {
    func served(_ objects: [JSON]) async throws -> [JSON] { throw StatusError.internalError("conversion webhooks are not available") }
    func stored(_ object: JSON) async throws -> JSON { throw StatusError.internalError("conversion webhooks are not available") }
}
