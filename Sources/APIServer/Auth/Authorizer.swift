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
    /// A list's or watch's field selector, as sent (the node authorizer reads `spec.nodeName`).
    public var fieldSelector: String = ""

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
    case node = "Node"
    case rbac = "RBAC"
    case alwaysAllow = "AlwaysAllow"

    /// A comma-separated list (`Node,RBAC`), each mode once; nil with the offending name.
    public static func parse(_ text: String) -> Result<[AuthorizationMode], AuthorizationModeError> {
        var modes: [AuthorizationMode] = []
        for name in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) {
            guard let mode = AuthorizationMode(rawValue: name) else { return .failure(.unknown(name)) }
            guard !modes.contains(mode) else { return .failure(.repeated(name)) }
            modes.append(mode)
        }
        return modes.isEmpty ? .failure(.unknown(text)) : .success(modes)
    }
}

public enum AuthorizationModeError: Error, CustomStringConvertible {
    case unknown(String)
    case repeated(String)

    public var description: String {
        switch self {
        case .unknown(let name): "\"\(name)\" is not one of \(AuthorizationMode.allCases.map(\.rawValue).joined(separator: ", "))"
        case .repeated(let name): "\"\(name)\" is given twice"
        }
    }
}

/// Several authorizers in order (kube-apiserver's `--authorization-mode=Node,RBAC`): the
/// first that allows decides; a refusal carries the reasons given.
public struct AuthorizerChain: Authorizer {
    let authorizers: [any Authorizer]

    public init(_ authorizers: [any Authorizer]) { self.authorizers = authorizers }

    public func authorize(_ attributes: AuthorizationAttributes) async -> AuthorizationDecision {
        var reasons: [String] = []
        for authorizer in authorizers {
            let decision = await authorizer.authorize(attributes)
            if decision.allowed { return decision }
            if !decision.reason.isEmpty { reasons.append(decision.reason) }
        }
        return AuthorizationDecision(allowed: false, reason: reasons.joined(separator: "; "))
    }

    public func rules(for user: UserInfo, namespace: String) async -> (resourceRules: [JSON], nonResourceRules: [JSON], incomplete: Bool) {
        var resource: [JSON] = [], nonResource: [JSON] = [], incomplete = false
        for authorizer in authorizers {
            let rules = await authorizer.rules(for: user, namespace: namespace)
            resource += rules.resourceRules.filter { !resource.contains($0) }
            nonResource += rules.nonResourceRules.filter { !nonResource.contains($0) }
            incomplete = incomplete || rules.incomplete
        }
        return (resource, nonResource, incomplete)
    }
}
