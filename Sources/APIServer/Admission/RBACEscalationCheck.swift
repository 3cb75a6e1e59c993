/// RBAC's escalation prevention: a Role or ClusterRole may only grant what its writer holds
/// (or the writer has the `escalate` verb on it); a binding may only bind a role whose
/// permissions its writer holds (or the writer has the `bind` verb on that role). A binding's
/// roleRef cannot change.
public struct RBACEscalationCheck: AdmissionPlugin {
    static let group = "rbac.authorization.k8s.io"
    let authorizer: RBACAuthorizer

    public init(authorizer: RBACAuthorizer) {
        self.authorizer = authorizer
    }

    public func admit(_ object: inout JSON, _ request: AdmissionRequest) async throws -> AdmissionOutcome {
        guard request.resource.group == Self.group, request.subresource.isEmpty else { return .none }
        switch request.resource.plural {
        case "roles", "clusterroles":
            try await checkRole(object, request)
        case "rolebindings", "clusterrolebindings":
            if let old = request.old, old["roleRef"] != object["roleRef"] {
                throw StatusError.invalid(kind: request.resource.kind, group: Self.group, name: request.name, causes: [
                    .init(field: "roleRef", message: "Invalid value: \(object["roleRef"]?.text ?? "null"): cannot change roleRef"),
                ])
            }
            try await checkBinding(object, request)
        default: break
        }
        return .none
    }

    private func allowed(_ verb: String, resource: String, name: String, namespace: String, user: UserInfo) async -> Bool {
        var attributes = AuthorizationAttributes(user: user, verb: verb, isResourceRequest: true)
        attributes.group = Self.group
        attributes.resource = resource
        attributes.name = name
        attributes.namespace = namespace
        return await authorizer.authorize(attributes).allowed
    }

    private func checkRole(_ role: JSON, _ request: AdmissionRequest) async throws {
        if await allowed("escalate", resource: request.resource.plural, name: request.name, namespace: request.namespace, user: request.user) {
            return
        }
        // Aggregated roles collect rules from any role: only holders of everything may write them.
        let granted = role["aggregationRule"] != nil && role["aggregationRule"] != .null
            ? BootstrapPolicy.clusterAdminRules : RBACPolicy.rules(role)
        let missing = await authorizer.missing(granted, user: request.user, namespace: request.namespace)
        guard !missing.isEmpty else { return }
        throw forbidden(request, "is attempting to grant RBAC permissions not currently held:\n" +
                        missing.map(Self.describe).joined(separator: "\n"))
    }

    private func checkBinding(_ binding: JSON, _ request: AdmissionRequest) async throws {
        let kind = binding[path: ["roleRef", "kind"]]?.stringValue ?? ""
        let roleName = binding[path: ["roleRef", "name"]]?.stringValue ?? ""
        let roleResource = kind == "Role" ? "roles" : "clusterroles"
        if await allowed("bind", resource: roleResource, name: roleName, namespace: request.namespace, user: request.user) { return }
        let policy = authorizer.cache.policy
        let rules = kind == "Role" ? policy.roles[request.namespace]?[roleName] : policy.clusterRoles[roleName]
        guard let rules else {
            throw forbidden(request, "cannot bind to \(kind) \"\(roleName)\": \(roleResource).\(Self.group) \"\(roleName)\" not found")
        }
        let missing = await authorizer.missing(rules, user: request.user, namespace: request.namespace)
        guard !missing.isEmpty else { return }
        throw forbidden(request, "is attempting to grant RBAC permissions not currently held:\n" +
                        missing.map(Self.describe).joined(separator: "\n"))
    }

    private func forbidden(_ request: AdmissionRequest, _ why: String) -> StatusError {
        let groups = request.user.groups.map { "\"\($0)\"" }.joined(separator: " ")
        return StatusError(code: 403, reason: "Forbidden",
                           message: "\(request.resource.plural).\(Self.group) \"\(request.name)\" is forbidden: user \"\(request.user.name)\" (groups=[\(groups)]) \(why)",
                           details: ["name": .string(request.name), "group": .string(Self.group), "kind": .string(request.resource.plural)])
    }

    /// A rule in the form kube-apiserver lists missing permissions.
    static func describe(_ rule: PolicyRule) -> String {
        func list(_ values: [String]) -> String { "[" + values.map { "\"\($0)\"" }.joined(separator: " ") + "]" }
        if !rule.nonResourceURLs.isEmpty { return "{NonResourceURLs:\(list(rule.nonResourceURLs)), Verbs:\(list(rule.verbs))}" }
        var text = "{APIGroups:\(list(rule.apiGroups)), Resources:\(list(rule.resources))"
        if !rule.resourceNames.isEmpty { text += ", ResourceNames:\(list(rule.resourceNames))" }
        return text + ", Verbs:\(list(rule.verbs))}"
    }
}
