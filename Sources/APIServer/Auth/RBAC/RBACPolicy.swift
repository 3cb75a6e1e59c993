/// The roles and bindings of a cluster at one point, indexed for authorization.
public struct RBACPolicy: Sendable {
    /// ClusterRoles by name.
    var clusterRoles: [String: [PolicyRule]] = [:]
    /// Roles by namespace, then name.
    var roles: [String: [String: [PolicyRule]]] = [:]
    var clusterRoleBindings: [String: RoleBinding] = [:]
    /// RoleBindings by namespace, then name.
    var roleBindings: [String: [String: RoleBinding]] = [:]

    public init() {}

    /// Takes in a stored object of one of the four RBAC resources (`nil` removes it).
    mutating func apply(resource: String, namespace: String, name: String, object: JSON?) {
        switch resource {
        case "clusterroles": clusterRoles[name] = object.map(Self.rules)
        case "roles": roles[namespace, default: [:]][name] = object.map(Self.rules)
        case "clusterrolebindings": clusterRoleBindings[name] = object.map(RoleBinding.init(json:))
        case "rolebindings": roleBindings[namespace, default: [:]][name] = object.map(RoleBinding.init(json:))
        default: break
        }
    }

    static func rules(_ role: JSON) -> [PolicyRule] {
        (role["rules"]?.arrayValue ?? []).map(PolicyRule.init(json:))
    }

    /// The rules a binding grants (none if its role does not exist).
    func rules(of binding: RoleBinding) -> [PolicyRule] {
        binding.roleKind == "Role" ? roles[binding.namespace]?[binding.roleName] ?? [] : clusterRoles[binding.roleName] ?? []
    }

    /// The bindings that apply to a user for a request in `namespace` (cluster-wide bindings
    /// first, then the namespace's own).
    func bindings(for user: UserInfo, namespace: String) -> [RoleBinding] {
        var found = clusterRoleBindings.values.filter { $0.applies(to: user) }.sorted { $0.name < $1.name }
        if !namespace.isEmpty, let local = roleBindings[namespace] {
            found += local.values.filter { $0.applies(to: user) }.sorted { $0.name < $1.name }
        }
        return found
    }

    /// The binding and role that allow a request, described as kube-apiserver's RBAC reason;
    /// `nil` when nothing allows it.
    func allowingReason(_ attributes: AuthorizationAttributes) -> String? {
        for binding in bindings(for: attributes.user, namespace: attributes.namespace)
        where rules(of: binding).contains(where: { $0.allows(attributes) }) {
            return "RBAC: allowed by \(binding.described) of \(binding.describedRole) to \(subjectDescription(attributes.user, binding))"
        }
        return nil
    }

    private func subjectDescription(_ user: UserInfo, _ binding: RoleBinding) -> String {
        for subject in binding.subjects {
            switch subject.kind {
            case "User" where subject.name == user.name: return "User \"\(user.name)\""
            case "Group" where user.groups.contains(subject.name): return "Group \"\(subject.name)\""
            case "ServiceAccount": return "ServiceAccount \"\(subject.name)/\(subject.namespace.isEmpty ? binding.namespace : subject.namespace)\""
            default: continue
            }
        }
        return "User \"\(user.name)\""
    }

    /// Every rule a user holds in a namespace (cluster-wide ones included).
    func rules(for user: UserInfo, namespace: String) -> [PolicyRule] {
        var seen = Set<PolicyRule>()
        return bindings(for: user, namespace: namespace).flatMap(rules(of:)).filter { seen.insert($0).inserted }
    }
}
