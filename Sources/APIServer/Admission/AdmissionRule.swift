/// admissionregistration's `RuleWithOperations`, as webhooks' `rules` and admission policies'
/// `resourceRules` give it: operations, API groups, versions, resources (with subresources:
/// `*` is every resource but no subresource, `*/*` everything, `pods/*` a resource and its
/// subresources, `*/status` one subresource of every resource), resource names and scope.
struct AdmissionRule: Sendable {
    /// What a rule is matched against: the request, or the request as seen at an equivalent
    /// version (a webhook's `matchPolicy: Equivalent`).
    struct Target: Sendable {
        var operation: String
        var group: String
        var version: String
        var plural: String
        var subresource: String
        var namespaced: Bool
        var name: String

        init(_ request: AdmissionRequest) {
            operation = request.operation.rawValue
            group = request.resource.group
            version = request.resource.version
            plural = request.resource.plural
            subresource = request.subresource
            namespaced = request.resource.namespaced
            name = request.name
        }
    }

    let operations: [String]
    let groups: [String]
    let versions: [String]
    let resources: [String]
    let names: [String]
    let scope: String

    init(_ rule: JSON) {
        func strings(_ field: String) -> [String] { (rule[field]?.arrayValue ?? []).compactMap(\.stringValue) }
        operations = strings("operations")
        groups = strings("apiGroups")
        versions = strings("apiVersions")
        resources = strings("resources")
        names = strings("resourceNames")
        scope = rule["scope"]?.stringValue ?? "*"
    }

    /// Whether the rule would take the request at some version (only then is a search of the
    /// resource's other versions worth it).
    func matchesAnyVersion(_ target: Target) -> Bool {
        var anyVersion = target
        anyVersion.version = versions.first ?? ""
        return !versions.isEmpty && matches(anyVersion)
    }

    func matches(_ target: Target) -> Bool {
        func has(_ values: [String], _ value: String) -> Bool { values.contains("*") || values.contains(value) }
        let combined = target.subresource.isEmpty ? target.plural : target.plural + "/" + target.subresource
        let resourceMatches = resources.contains { wanted in
            (wanted == "*" && target.subresource.isEmpty) || wanted == "*/*" || wanted == combined
                || (wanted.hasPrefix("*/") && wanted.dropFirst(2) == target.subresource)
                || (wanted.hasSuffix("/*") && wanted.dropLast(2) == target.plural)
        }
        // Namespaces are cluster-scoped; a rule scoped "Namespaced" still takes requests in a namespace.
        let scopeMatches = scope == "*" || (scope == "Namespaced") == target.namespaced
        return has(groups, target.group) && has(versions, target.version) && has(operations, target.operation)
            && resourceMatches && (names.isEmpty || names.contains(target.name)) && scopeMatches
    }
}
