/// A RoleBinding or ClusterRoleBinding as the authorizer reads it: who it names and which
/// role it grants them.
public struct RoleBinding: Sendable, Hashable {
    public struct Subject: Sendable, Hashable {
        public var kind: String
        public var name: String
        public var namespace: String
    }

    /// The binding's namespace; empty for a ClusterRoleBinding.
    public var namespace: String
    public var name: String
    /// `Role` (in the binding's namespace) or `ClusterRole`.
    public var roleKind: String
    public var roleName: String
    public var subjects: [Subject]

    public init(json: JSON) {
        namespace = json[path: ["metadata", "namespace"]]?.stringValue ?? ""
        name = json[path: ["metadata", "name"]]?.stringValue ?? ""
        roleKind = json[path: ["roleRef", "kind"]]?.stringValue ?? ""
        roleName = json[path: ["roleRef", "name"]]?.stringValue ?? ""
        subjects = (json["subjects"]?.arrayValue ?? []).map { subject in
            Subject(kind: subject["kind"]?.stringValue ?? "", name: subject["name"]?.stringValue ?? "",
                    namespace: subject["namespace"]?.stringValue ?? "")
        }
    }

    /// Whether the binding names the user, one of their groups, or their service account.
    public func applies(to user: UserInfo) -> Bool {
        subjects.contains { subject in
            switch subject.kind {
            case "User": return subject.name == user.name
            case "Group": return user.groups.contains(subject.name)
            case "ServiceAccount":
                let namespace = subject.namespace.isEmpty ? self.namespace : subject.namespace
                return user.name == "system:serviceaccount:\(namespace):\(subject.name)"
            default: return false
            }
        }
    }

    /// How kube-apiserver names a binding in an authorization reason.
    var described: String {
        namespace.isEmpty ? "ClusterRoleBinding \"\(name)\"" : "RoleBinding \"\(name)/\(namespace)\""
    }

    var describedRole: String {
        roleKind == "Role" ? "Role \"\(roleName)/\(namespace)\"" : "ClusterRole \"\(roleName)\""
    }
}
