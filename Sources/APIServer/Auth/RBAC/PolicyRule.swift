/// One RBAC rule: verbs on resources of API groups (optionally only some names), or verbs on
/// non-resource URLs.
public struct PolicyRule: Sendable, Hashable {
    public var verbs: [String]
    public var apiGroups: [String]
    public var resources: [String]
    public var resourceNames: [String]
    public var nonResourceURLs: [String]

    public init(verbs: [String], apiGroups: [String] = [], resources: [String] = [], resourceNames: [String] = [],
                nonResourceURLs: [String] = []) {
        self.verbs = verbs
        self.apiGroups = apiGroups
        self.resources = resources
        self.resourceNames = resourceNames
        self.nonResourceURLs = nonResourceURLs
    }

    /// Reads a rule of a Role or ClusterRole.
    public init(json: JSON) {
        func strings(_ field: String) -> [String] { (json[field]?.arrayValue ?? []).compactMap(\.stringValue) }
        self.init(verbs: strings("verbs"), apiGroups: strings("apiGroups"), resources: strings("resources"),
                  resourceNames: strings("resourceNames"), nonResourceURLs: strings("nonResourceURLs"))
    }

    /// The rule as it appears in a role, omitting empty lists.
    public var json: JSON {
        var rule: JSON = ["verbs": .array(verbs.map { .string($0) })]
        for (field, values) in [("apiGroups", apiGroups), ("resources", resources), ("resourceNames", resourceNames),
                                ("nonResourceURLs", nonResourceURLs)] where !values.isEmpty || (field == "apiGroups" && !resources.isEmpty) {
            rule[field] = .array(values.map { .string($0) })
        }
        return rule
    }

    /// Whether the rule allows a request.
    public func allows(_ attributes: AuthorizationAttributes) -> Bool {
        guard Self.contains(verbs, attributes.verb) else { return false }
        if !attributes.isResourceRequest {
            return nonResourceURLs.contains { Self.urlMatches($0, attributes.path) }
        }
        guard Self.contains(apiGroups, attributes.group) else { return false }
        let combined = attributes.subresource.isEmpty ? attributes.resource : attributes.resource + "/" + attributes.subresource
        let resourceMatches = resources.contains { rule in
            rule == "*" || rule == combined || (!attributes.subresource.isEmpty && rule == "*/" + attributes.subresource)
        }
        guard resourceMatches else { return false }
        return resourceNames.isEmpty || resourceNames.contains(attributes.name)
    }

    /// Whether this rule grants everything `other` grants (escalation checks): every verb,
    /// group, resource and name of `other` is covered by this rule.
    public func covers(_ other: PolicyRule) -> Bool {
        guard other.verbs.allSatisfy({ Self.contains(verbs, $0) }) else { return false }
        if !other.nonResourceURLs.isEmpty {
            guard other.resources.isEmpty,
                  other.nonResourceURLs.allSatisfy({ url in nonResourceURLs.contains { Self.urlCovers($0, url) } }) else { return false }
            return true
        }
        guard other.apiGroups.allSatisfy({ Self.contains(apiGroups, $0) }) else { return false }
        let resourcesCovered = other.resources.allSatisfy { wanted in
            resources.contains { held in
                if held == "*" || held == wanted { return true }
                // "*/status" covers "pods/status"; "pods/*" is not a form RBAC knows.
                if held.hasPrefix("*/"), let slash = wanted.firstIndex(of: "/") { return wanted[slash...] == held.dropFirst() }
                return false
            }
        }
        guard resourcesCovered else { return false }
        if resourceNames.isEmpty { return true }
        return !other.resourceNames.isEmpty && other.resourceNames.allSatisfy { resourceNames.contains($0) }
    }

    /// Splits the rule into rules of one verb, group, resource and name each, so that a set of
    /// held rules can be checked against each piece (a rule may be covered by several).
    public var atoms: [PolicyRule] {
        var pieces: [PolicyRule] = []
        for verb in verbs {
            if !nonResourceURLs.isEmpty {
                pieces += nonResourceURLs.map { PolicyRule(verbs: [verb], nonResourceURLs: [$0]) }
                continue
            }
            for group in apiGroups {
                for resource in resources {
                    if resourceNames.isEmpty {
                        pieces.append(PolicyRule(verbs: [verb], apiGroups: [group], resources: [resource]))
                    } else {
                        pieces += resourceNames.map { PolicyRule(verbs: [verb], apiGroups: [group], resources: [resource], resourceNames: [$0]) }
                    }
                }
            }
        }
        return pieces
    }

    static func contains(_ values: [String], _ value: String) -> Bool {
        values.contains { $0 == "*" || $0 == value }
    }

    /// A rule's URL matches a path exactly, or as a prefix when it ends in `*`.
    static func urlMatches(_ rule: String, _ path: String) -> Bool {
        if rule == "*" || rule == path { return true }
        return rule.hasSuffix("*") && path.hasPrefix(rule.dropLast())
    }

    /// A held URL pattern covers a granted one (itself a path or a `*`-ended prefix).
    static func urlCovers(_ held: String, _ granted: String) -> Bool {
        if held == "*" || held == granted { return true }
        return held.hasSuffix("*") && granted.hasPrefix(held.dropLast())
    }
}
