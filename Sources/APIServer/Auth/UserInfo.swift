/// Who made a request, as Kubernetes' authenticators describe a user.
public struct UserInfo: Sendable, Hashable {
    public var name: String
    public var uid: String
    public var groups: [String]
    public var extra: [String: [String]]

    public init(name: String, uid: String = "", groups: [String] = [], extra: [String: [String]] = [:]) {
        self.name = name
        self.uid = uid
        self.groups = groups
        self.extra = extra
    }

    /// The user as the API's `UserInfo` object (SelfSubjectReview, TokenReview).
    public var json: JSON {
        var info: JSON = ["username": .string(name), "groups": .array(groups.map { .string($0) })]
        if !uid.isEmpty { info["uid"] = .string(uid) }
        if !extra.isEmpty { info["extra"] = .object(extra.mapValues { .array($0.map { .string($0) }) }) }
        return info
    }

    /// Adds `system:authenticated`, as kube-apiserver does for every authenticated user.
    func authenticated() -> UserInfo {
        var user = self
        if !user.groups.contains("system:authenticated") { user.groups.append("system:authenticated") }
        return user
    }
}
