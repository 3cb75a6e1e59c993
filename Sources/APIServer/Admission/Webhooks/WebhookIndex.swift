import Synchronization

/// The admission webhooks of every Mutating- and ValidatingWebhookConfiguration, in the order
/// kube-apiserver calls them: configurations by name, webhooks as each lists them. Rebuilt
/// when the watched configurations change.
final class WebhookIndex: Sendable {
    struct Hooks: Sendable {
        var mutating: [AdmissionWebhook] = []
        var validating: [AdmissionWebhook] = []
    }

    static let group = "admissionregistration.k8s.io"
    private let objects: WatchedObjects
    private let built = Mutex<(generation: Int, hooks: Hooks)>((-1, Hooks()))

    init(objects: WatchedObjects) {
        self.objects = objects
    }

    /// The webhooks as this server's cache has them now.
    var current: Hooks {
        let (snapshot, generation) = objects.snapshot
        return built.withLock { built in
            if built.generation != generation { built = (generation, Self.hooks(snapshot)) }
            return built.hooks
        }
    }

    private static func hooks(_ objects: [String: JSON]) -> Hooks {
        func configurations(_ resource: String) -> [AdmissionWebhook] {
            let prefix = RegistryKey.resourcePrefix(group: group, resource: resource)
            return objects.filter { $0.key.hasPrefix(prefix) }
                .map { (name: $0.value[path: ["metadata", "name"]]?.stringValue ?? "", object: $0.value) }
                .sorted { $0.name < $1.name }
                .flatMap { configuration in
                    (configuration.object["webhooks"]?.arrayValue ?? []).map { AdmissionWebhook($0, configuration: configuration.name) }
                }
        }
        return Hooks(mutating: configurations("mutatingwebhookconfigurations"),
                     validating: configurations("validatingwebhookconfigurations"))
    }
}
