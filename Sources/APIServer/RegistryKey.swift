/// Where an object lives in the key-value log: `/registry/<group>/<resource>/[<namespace>/]<name>`.
///
/// The legacy core API group (the empty group name) is spelled `core` in keys. Prefixes for
/// listing end with `/`, so that namespace `a` never matches objects of namespace `ab`.
public struct RegistryKey: Sendable, Hashable {
    /// The key root every Skiff object lives under.
    public static let root = "/registry/"

    public var group: String
    public var resource: String
    /// The namespace, `nil` for cluster-scoped objects.
    public var namespace: String?
    public var name: String

    public init(group: String, resource: String, namespace: String?, name: String) {
        self.group = group
        self.resource = resource
        self.namespace = namespace
        self.name = name
    }

    /// The key's text.
    public var path: String {
        Self.resourcePrefix(group: group, resource: resource) + (namespace.map { $0 + "/" } ?? "") + name
    }

    /// The prefix of every object of a resource, in all namespaces.
    public static func resourcePrefix(group: String, resource: String) -> String {
        root + (group.isEmpty ? "core" : group) + "/" + resource + "/"
    }

    /// The prefix of every object of a namespaced resource in one namespace.
    public static func namespacePrefix(group: String, resource: String, namespace: String) -> String {
        resourcePrefix(group: group, resource: resource) + namespace + "/"
    }

    /// Parses a key; `namespaced` says whether the resource has a namespace segment.
    /// Returns `nil` for keys outside the layout.
    public init?(parsing path: String, namespaced: Bool) {
        guard path.hasPrefix(Self.root) else { return nil }
        let parts = path.dropFirst(Self.root.count).split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == (namespaced ? 4 : 3), !parts.contains(where: \.isEmpty) else { return nil }
        group = parts[0] == "core" ? "" : String(parts[0])
        resource = String(parts[1])
        namespace = namespaced ? String(parts[2]) : nil
        name = String(parts[parts.count - 1])
    }
}
