/// ValidatingAdmissionPolicies and their bindings as the admission plugin reads them, with
/// every expression parsed once per change.
struct AdmissionPolicyIndex: Sendable {
    /// A parsed expression, or why it did not parse.
    struct Compiled: Sendable {
        let source: String
        let expression: Result<CELExpression, CELError>

        init(_ source: String) {
            self.source = source
            expression = Result { try CELParser.parse(source) }.mapError { $0 as? CELError ?? CELError("\($0)") }
        }
    }

    struct Validation: Sendable {
        let expression: Compiled
        let message: String?
        let messageExpression: Compiled?
        let reason: String
    }

    struct Policy: Sendable {
        let name: String
        let failurePolicyIgnores: Bool
        let paramKind: (apiVersion: String, kind: String)?
        let matchConstraints: JSON
        let matchConditions: [(name: String, expression: Compiled)]
        let variables: [(name: String, expression: Compiled)]
        let validations: [Validation]
        let auditAnnotations: [(key: String, value: Compiled)]

        init(_ object: JSON) {
            let spec = object["spec"] ?? .emptyObject
            name = object[path: ["metadata", "name"]]?.stringValue ?? ""
            failurePolicyIgnores = spec["failurePolicy"]?.stringValue == "Ignore"
            paramKind = spec["paramKind"].map { ($0["apiVersion"]?.stringValue ?? "", $0["kind"]?.stringValue ?? "") }
            matchConstraints = spec["matchConstraints"] ?? .emptyObject
            func named(_ field: String, _ valueField: String = "expression") -> [(String, Compiled)] {
                (spec[field]?.arrayValue ?? []).map { ($0["name"]?.stringValue ?? $0["key"]?.stringValue ?? "",
                                                       Compiled($0[valueField]?.stringValue ?? "")) }
            }
            matchConditions = named("matchConditions")
            variables = named("variables")
            auditAnnotations = named("auditAnnotations", "valueExpression")
            validations = (spec["validations"]?.arrayValue ?? []).map { validation in
                Validation(expression: Compiled(validation["expression"]?.stringValue ?? ""),
                           message: validation["message"]?.stringValue,
                           messageExpression: validation["messageExpression"]?.stringValue.map(Compiled.init),
                           reason: validation["reason"]?.stringValue ?? "Invalid")
            }
        }
    }

    struct Binding: Sendable {
        let name: String
        let policyName: String
        let paramRef: JSON?
        let actions: Set<String>
        let matchResources: JSON?

        init(_ object: JSON) {
            let spec = object["spec"] ?? .emptyObject
            name = object[path: ["metadata", "name"]]?.stringValue ?? ""
            policyName = spec["policyName"]?.stringValue ?? ""
            paramRef = spec["paramRef"]
            actions = Set((spec["validationActions"]?.arrayValue ?? []).compactMap(\.stringValue))
            matchResources = spec["matchResources"]
        }
    }

    var policies: [String: Policy] = [:]
    var bindings: [Binding] = []

    init() {}

    init(_ objects: [String: JSON]) {
        let policyPrefix = RegistryKey.resourcePrefix(group: "admissionregistration.k8s.io", resource: "validatingadmissionpolicies")
        let bindingPrefix = RegistryKey.resourcePrefix(group: "admissionregistration.k8s.io", resource: "validatingadmissionpolicybindings")
        for (key, object) in objects {
            if key.hasPrefix(policyPrefix) {
                let policy = Policy(object)
                policies[policy.name] = policy
            } else if key.hasPrefix(bindingPrefix) {
                bindings.append(Binding(object))
            }
        }
        bindings.sort { $0.name < $1.name }
    }
}
