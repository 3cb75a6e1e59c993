import Foundation

/// Which requests are audited and how much of them, from a policy file in kube-apiserver's
/// format (audit.k8s.io/v1 `Policy`, YAML or JSON): the first rule that matches a request
/// gives its level. Without a policy file every request is logged at `Metadata`.
public struct AuditPolicy: Sendable {
    /// How much of a request the log keeps.
    public enum Level: String, Sendable, Comparable {
        case none = "None", metadata = "Metadata", request = "Request", requestResponse = "RequestResponse"

        private var rank: Int { [.none: 0, .metadata: 1, .request: 2, .requestResponse: 3][self]! }
        public static func < (a: Level, b: Level) -> Bool { a.rank < b.rank }
    }

    struct Rule: Sendable {
        var level: Level
        var users: [String]
        var userGroups: [String]
        var verbs: [String]
        var resources: [(group: String, resources: [String], names: [String])]
        var namespaces: [String]
        var nonResourceURLs: [String]
    }

    let rules: [Rule]

    /// Everything at Metadata.
    public static let metadataForAll = AuditPolicy(rules: [Rule(level: .metadata, users: [], userGroups: [], verbs: [], resources: [],
                                                                namespaces: [], nonResourceURLs: [])])

    init(rules: [Rule]) { self.rules = rules }

    /// Reads a policy file; a malformed one is an error that names what is wrong.
    public init(file: String) throws {
        let document = try JSON.parseYAML(Array(try Data(contentsOf: URL(fileURLWithPath: file))))
        guard document["kind"]?.stringValue == "Policy" else {
            throw AuditPolicyError("\(file) is not an audit Policy (kind: Policy, apiVersion: audit.k8s.io/v1)")
        }
        rules = try (document["rules"]?.arrayValue ?? []).enumerated().map { index, rule in
            guard let text = rule["level"]?.stringValue, let level = Level(rawValue: text) else {
                throw AuditPolicyError("rule \(index) of \(file): level must be None, Metadata, Request or RequestResponse")
            }
            func strings(_ key: String, _ node: JSON? = nil) -> [String] {
                ((node ?? rule)[key]?.arrayValue ?? []).compactMap(\.stringValue)
            }
            let resources = (rule["resources"]?.arrayValue ?? []).map { r in
                (group: r["group"]?.stringValue ?? "", resources: strings("resources", r), names: strings("resourceNames", r))
            }
            return Rule(level: level, users: strings("users"), userGroups: strings("userGroups"), verbs: strings("verbs"),
                        resources: resources, namespaces: strings("namespaces"), nonResourceURLs: strings("nonResourceURLs"))
        }
    }

    /// The level of a request.
    func level(user: UserInfo?, verb: String, info: RequestInfo?, path: String) -> Level {
        for rule in rules where matches(rule, user: user, verb: verb, info: info, path: path) { return rule.level }
        return .none
    }

    private func matches(_ rule: Rule, user: UserInfo?, verb: String, info: RequestInfo?, path: String) -> Bool {
        let name = user?.name ?? "system:anonymous"
        let groups = user?.groups ?? ["system:unauthenticated"]
        if !rule.users.isEmpty && !rule.users.contains(name) { return false }
        if !rule.userGroups.isEmpty && rule.userGroups.allSatisfy({ !groups.contains($0) }) { return false }
        if !rule.verbs.isEmpty && !rule.verbs.contains(verb) { return false }
        if let info {
            if !rule.nonResourceURLs.isEmpty && rule.resources.isEmpty { return false }
            if !rule.namespaces.isEmpty && !rule.namespaces.contains(info.namespace ?? "") { return false }
            if !rule.resources.isEmpty {
                let resource = info.resource + (info.subresource.map { "/" + $0 } ?? "")
                return rule.resources.contains { r in
                    r.group == info.group
                        && (r.resources.isEmpty || r.resources.contains(resource) || r.resources.contains(info.resource)
                            || r.resources.contains("*") || r.resources.contains("*/" + (info.subresource ?? "")))
                        && (r.names.isEmpty || r.names.contains(info.name ?? ""))
                }
            }
            return true
        }
        if !rule.resources.isEmpty || !rule.namespaces.isEmpty { return false }
        if rule.nonResourceURLs.isEmpty { return true }
        return rule.nonResourceURLs.contains { url in
            url.hasSuffix("*") ? path.hasPrefix(String(url.dropLast())) : path == url
        }
    }
}

public struct AuditPolicyError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
