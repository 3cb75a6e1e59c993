/// kube-apiserver's `--authorization-mode=RBAC`: members of `system:masters` may do
/// everything; everyone else what the roles bound to them, their groups or their service
/// account allow.
public struct RBACAuthorizer: Authorizer {
    static let superuserGroup = "system:masters"
    let cache: RBACPolicyCache

    public init(cache: RBACPolicyCache) {
        self.cache = cache
    }

    public func authorize(_ attributes: AuthorizationAttributes) async -> AuthorizationDecision {
        if attributes.user.groups.contains(Self.superuserGroup) {
            return AuthorizationDecision(allowed: true, reason: "")
        }
        if let reason = cache.allowingReason(attributes) { return AuthorizationDecision(allowed: true, reason: reason) }
        // A refusal is decided on a policy that holds every change made before the request
        // (a binding created a moment ago counts).
        await cache.catchUp()
        if let reason = cache.allowingReason(attributes) { return AuthorizationDecision(allowed: true, reason: reason) }
        return AuthorizationDecision(allowed: false, reason: "")
    }

    public func rules(for user: UserInfo, namespace: String) async -> (resourceRules: [JSON], nonResourceRules: [JSON], incomplete: Bool) {
        await cache.catchUp()
        var rules = cache.policy.rules(for: user, namespace: namespace)
        if user.groups.contains(Self.superuserGroup) {
            rules.removeAll { BootstrapPolicy.clusterAdminRules.contains($0) }
            rules.insert(contentsOf: BootstrapPolicy.clusterAdminRules, at: 0)
        }
        let resource = rules.filter { $0.nonResourceURLs.isEmpty }.map(\.json)
        let nonResource = rules.filter { !$0.nonResourceURLs.isEmpty }.map(\.json)
        return (resource, nonResource, false)
    }

    /// Whether the user holds every permission of `rules` in `namespace` ("" = cluster-wide),
    /// for the escalation check; returns the rules not held.
    func missing(_ rules: [PolicyRule], user: UserInfo, namespace: String) async -> [PolicyRule] {
        if user.groups.contains(Self.superuserGroup) { return [] }
        await cache.catchUp()
        let held = cache.policy.rules(for: user, namespace: namespace)
        return rules.flatMap(\.atoms).filter { atom in !held.contains { $0.covers(atom) } }
    }
}
