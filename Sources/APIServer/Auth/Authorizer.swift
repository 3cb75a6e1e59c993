/// What a request asks to do, as an authorizer sees it.
public struct AuthorizationAttributes: Sendable, Hashable {
    public var user: UserInfo
    public var verb: String
    /// Resource requests: group, resource, subresource, namespace, name.
    public var isResourceRequest: Bool
    public var group: String = ""
    public var version: String = ""
    public var resource: String = ""
    public var subresource: String = ""
    public var namespace: String = ""
    public var name: String = ""
    /// Non-resource requests: the path.
    public var path: String = ""

    public init(user: UserInfo, verb: String, isResourceRequest: Bool) {
        self.user = user
        self.verb = verb
        self.isResourceRequest = isResourceRequest
    }
}

/// An authorizer's answer.
public struct AuthorizationDecision: Sendable, Hashable {
    public var allowed: Bool
    public var reason: String
    public init(allowed: Bool, reason: String) {
        self.allowed = allowed
        self.reason = reason
    }
}

/// Decides whether a user may do something (a strategy: RBAC comes as another one).
public protocol Authorizer: Sendable {
    func authorize(_ attributes: AuthorizationAttributes) async -> AuthorizationDecision
    /// The rules a user holds in a namespace, for SelfSubjectRulesReview: resource rules and
    /// non-resource rules as API objects, and whether the list is incomplete.
    func rules(for user: UserInfo, namespace: String) async -> (resourceRules: [JSON], nonResourceRules: [JSON], incomplete: Bool)
}

/// Every authenticated user may do everything (kube-apiserver's `AlwaysAllow` mode): the
/// authorizer until RBAC is built.
public struct AlwaysAllowAuthorizer: Authorizer {
    public init() {}

    public func authorize(_ attributes: AuthorizationAttributes) async -> AuthorizationDecision {
        AuthorizationDecision(allowed: true, reason: "every authenticated user is allowed (no authorization mode other than AlwaysAllow is configured)")
    }

    public func rules(for user: UserInfo, namespace: String) async -> (resourceRules: [JSON], nonResourceRules: [JSON], incomplete: Bool) {
        ([["verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]]], [["verbs": ["*"], "nonResourceURLs": ["*"]]], false)
    }
}

/// kube-apiserver's `--authorization-mode` values Skiff serves.
public enum AuthorizationMode: String, Sendable, CaseIterable {
    case rbac = "RBAC"
    case alwaysAllow = "AlwaysAllow"
}
