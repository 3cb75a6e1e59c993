/// A served resource, described by data: the generic engine serves every resource from its
/// descriptor (built-in types from `openapi/resources.json`, custom resources from their
/// definitions).
public struct ResourceDescriptor: Sendable, Hashable, Codable {
    public var group: String
    public var version: String
    public var kind: String
    public var plural: String
    public var singular: String
    public var namespaced: Bool
    public var shortNames: [String]
    public var categories: [String]
    /// Served subresources: `status`, `scale`, and those of particular kinds (`token`, `binding`, `eviction`, `finalize`).
    public var subresources: [String]
    public var verbs: [String]
    /// The OpenAPI definition of the kind and of its list.
    public var definition: String?
    public var listDefinition: String?
    /// Whether the kind has `spec` (generation is bumped on its changes) and `status`.
    public var hasSpec: Bool
    public var hasStatus: Bool
    /// What a CustomResourceDefinition says of the resource (nil for built-in types).
    public var custom: CustomResourceInfo?

    enum CodingKeys: String, CodingKey {
        case group, version, kind, plural, singular, namespaced, shortNames, categories, subresources, verbs, definition,
             listDefinition, hasSpec, hasStatus
    }

    /// `group/version`, or `version` for the core group.
    public var groupVersion: String { group.isEmpty ? version : "\(group)/\(version)" }
    public var listKind: String { kind + "List" }
    public var hasStatusSubresource: Bool { subresources.contains("status") }
    public var hasScaleSubresource: Bool { subresources.contains("scale") }
    /// Whether objects are stored (create-only review resources are not).
    public var isStored: Bool { verbs.contains("get") || verbs.contains("list") }

    /// What a subresource reads and writes, and its verbs: `scale` is autoscaling/v1 Scale,
    /// `token` (of service accounts) is a create-only authentication.k8s.io/v1 TokenRequest,
    /// others (`status`) are the resource's own kind.
    public func subresourceKind(_ sub: String) -> (group: String, version: String, kind: String, definition: String, verbs: [String]) {
        switch sub {
        case "scale": return ("autoscaling", "v1", "Scale", "io.k8s.api.autoscaling.v1.Scale", ["get", "patch", "update"])
        case "token": return ("authentication.k8s.io", "v1", "TokenRequest", "io.k8s.api.authentication.v1.TokenRequest", ["create"])
        case "binding": return ("", "v1", "Binding", "io.k8s.api.core.v1.Binding", ["create"])
        case "eviction": return ("policy", "v1", "Eviction", "io.k8s.api.policy.v1.Eviction", ["create"])
        case "finalize": return (group, version, kind, definition ?? "", ["update"])
        case "log": return ("", "v1", "Pod", definition ?? "", ["get"])
        case "exec": return ("", "v1", "PodExecOptions", "", ["create", "get"])
        case "attach": return ("", "v1", "PodAttachOptions", "", ["create", "get"])
        case "portforward": return ("", "v1", "PodPortForwardOptions", "", ["create", "get"])
        case "proxy": return ("", "v1", kind + "ProxyOptions", "", ["create", "delete", "get", "patch", "update"])
        default: return (group, version, kind, definition ?? "", ["get", "patch", "update"])
        }
    }

    /// Whether stored objects are served as they are (no version conversion on the way out).
    public var storedAsServed: Bool { custom == nil && storageGroup == group }

    /// The group whose keys hold the objects: events.k8s.io Events are core Events, stored
    /// once at the core keys as kube-apiserver stores them.
    public var storageGroup: String { group == "events.k8s.io" && plural == "events" ? "" : group }

    /// The storage key prefix of every object of the resource.
    public var keyPrefix: String { RegistryKey.resourcePrefix(group: storageGroup, resource: plural) }

    /// The storage key prefix of the resource's objects in one namespace.
    public func namespacePrefix(_ namespace: String) -> String {
        RegistryKey.namespacePrefix(group: storageGroup, resource: plural, namespace: namespace)
    }

    public func key(namespace: String?, name: String) -> String {
        RegistryKey(group: storageGroup, resource: plural, namespace: namespaced ? namespace : nil, name: name).path
    }
}
