import Foundation
import Synchronization

/// ValidatingAdmissionPolicy: every binding whose policy matches a create or update (resource
/// rules, namespace and object selectors, match conditions) evaluates the policy's CEL
/// validations over `object`, `oldObject`, `request`, `params`, `namespaceObject` and
/// `variables`; a failure denies the request, warns, or is recorded in the audit event, as
/// the binding's `validationActions` say. An expression that cannot be evaluated fails the
/// request unless the policy's `failurePolicy` is `Ignore`.
public final class ValidatingAdmissionPolicyAdmission: AdmissionPlugin {
    static let group = "admissionregistration.k8s.io"
    let objects: WatchedObjects
    let store: any ObjectStore
    let catalog: ResourceCatalog
    private let index = Mutex<(generation: Int, index: AdmissionPolicyIndex)>((-1, AdmissionPolicyIndex()))

    public init(objects: WatchedObjects, store: any ObjectStore, catalog: ResourceCatalog) {
        self.objects = objects
        self.store = store
        self.catalog = catalog
    }

    private var current: AdmissionPolicyIndex {
        let (snapshot, generation) = objects.snapshot
        return index.withLock { index in
            if index.generation != generation { index = (generation, AdmissionPolicyIndex(snapshot)) }
            return index.index
        }
    }

    public func admit(_ object: inout JSON, _ request: AdmissionRequest) async throws -> AdmissionOutcome {
        // Policies cannot lock their own kind away.
        guard request.resource.group != Self.group else { return .none }
        // Policies come from this server's cache, a watch delivery behind the store (as on
        // kube-apiserver, a new policy takes effect a moment after it is written).
        let policies = current
        guard !policies.bindings.isEmpty else { return .none }
        var context = Context(object: object, request: request, store: store)
        var outcome = AdmissionOutcome()
        var auditFailures: [JSON] = []
        for binding in policies.bindings {
            guard let policy = policies.policies[binding.policyName] else { continue }
            guard try await matches(policy.matchConstraints, &context) else { continue }
            if let narrower = binding.matchResources, !(try await matches(narrower, &context)) { continue }
            let params = try await self.params(policy, binding, &context)
            for param in params {
                let (failures, annotations) = try await evaluate(policy, params: param, &context)
                outcome.auditAnnotations.merge(annotations) { $1 }
                for failure in failures {
                    let text = "ValidatingAdmissionPolicy '\(policy.name)' with binding '\(binding.name)' denied request: \(failure.message)"
                    if binding.actions.contains("Deny") { throw Self.denial(text, reason: failure.reason, request) }
                    if binding.actions.contains("Warn") {
                        outcome.warnings.append("Validation failed for ValidatingAdmissionPolicy '\(policy.name)' with binding '\(binding.name)': \(failure.message)")
                    }
                    if binding.actions.contains("Audit") {
                        auditFailures.append(["message": .string(failure.message), "policy": .string(policy.name),
                                              "binding": .string(binding.name), "expressionIndex": .int(Int64(failure.index)),
                                              "validationActions": .array(binding.actions.sorted().map { .string($0) })])
                    }
                }
            }
        }
        if !auditFailures.isEmpty {
            outcome.auditAnnotations["validation.policy.admission.k8s.io/validation_failure"] = JSON.array(auditFailures).text
        }
        return outcome
    }

    /// A delete is validated with a null `object` and the stored one as `oldObject`.
    public func admitDelete(_ request: AdmissionRequest) async throws -> AdmissionOutcome {
        var none = JSON.null
        return try await admit(&none, request)
    }

    /// The refusal for a validation's `reason`: Invalid (422, the message as a cause, so that
    /// kubectl shows it), Forbidden (403), Unauthorized (401), RequestEntityTooLarge (413).
    static func denial(_ text: String, reason: String, _ request: AdmissionRequest) -> StatusError {
        let resource = request.resource
        let qualified = resource.group.isEmpty ? resource.plural : resource.plural + "." + resource.group
        let details: JSON = ["name": .string(request.name), "group": .string(resource.group), "kind": .string(resource.plural)]
        switch reason {
        case "Forbidden":
            return StatusError(code: 403, reason: reason, message: "\(qualified) \"\(request.name)\" is forbidden: \(text)", details: details)
        case "Unauthorized":
            return StatusError(code: 401, reason: reason, message: text, details: details)
        case "RequestEntityTooLarge":
            return StatusError(code: 413, reason: reason, message: text, details: details)
        default:
            return StatusError.invalid(kind: resource.kind, group: resource.group, name: request.name,
                                       causes: [.init(field: "", message: text)])
        }
    }

    struct Failure {
        let message: String
        let reason: String
        let index: Int
    }

    /// What a policy's expressions see of the request: `object`, `oldObject` and `request`
    /// converted to CEL values once per request, the namespace read (and converted) once.
    struct Context {
        let object: JSON
        let request: AdmissionRequest
        let store: any ObjectStore
        let base: [String: CELValue]
        var namespaceObject: JSON??
        private var namespaceValue: CELValue?

        init(object: JSON, request: AdmissionRequest, store: any ObjectStore) {
            self.object = object
            self.request = request
            self.store = store
            base = ["object": CELValue(object), "oldObject": request.old.map(CELValue.init) ?? .null,
                    "request": CELValue(Self.requestValue(request))]
        }

        mutating func namespace() async throws -> JSON? {
            if let namespaceObject { return namespaceObject }
            let found = request.namespace.isEmpty ? nil
                : try await store.get(RegistryKey(group: "", resource: "namespaces", namespace: nil, name: request.namespace).path)?.object
            namespaceObject = .some(found)
            namespaceValue = found.map(CELValue.init) ?? .null
            return found
        }

        static func requestValue(_ request: AdmissionRequest) -> JSON {
            let resource = request.resource
            var user: JSON = ["username": .string(request.user.name), "groups": .array(request.user.groups.map { .string($0) })]
            if !request.user.uid.isEmpty { user["uid"] = .string(request.user.uid) }
            return [
                "operation": .string(request.operation.rawValue), "name": .string(request.name), "namespace": .string(request.namespace),
                "kind": ["group": .string(resource.group), "version": .string(resource.version), "kind": .string(resource.kind)],
                "resource": ["group": .string(resource.group), "version": .string(resource.version), "resource": .string(resource.plural)],
                "subResource": .string(request.subresource), "dryRun": .bool(request.dryRun), "userInfo": user,
            ]
        }

        /// Evaluates an expression with `params` (already a CEL value) and the policy's variables so far.
        func evaluate(_ compiled: AdmissionPolicyIndex.Compiled, params: CELValue, variables: [String: CELValue]) throws -> CELValue {
            let expression = try compiled.expression.get()
            var bindings = base
            bindings["params"] = params
            bindings["variables"] = .map(Dictionary(uniqueKeysWithValues: variables.map { (.string($0.key), $0.value) }))
            if let namespaceValue { bindings["namespaceObject"] = namespaceValue }
            return try CELEvaluator(variables: bindings).evaluate(expression)
        }
    }

    /// Whether a policy's `matchConstraints` or a binding's `matchResources` take the request.
    private func matches(_ match: JSON, _ context: inout Context) async throws -> Bool {
        let request = context.request
        let target = AdmissionRule.Target(request)
        func ruleMatches(_ rule: JSON) -> Bool { AdmissionRule(rule).matches(target) }
        if let rules = match["resourceRules"]?.arrayValue, !rules.contains(where: ruleMatches) { return false }
        if (match["excludeResourceRules"]?.arrayValue ?? []).contains(where: ruleMatches) { return false }
        if let selector = match["namespaceSelector"], selector != .emptyObject, context.request.resource.namespaced {
            let labels = (try await context.namespace())?[path: ["metadata", "labels"]]?.objectValue ?? [:]
            if !(try LabelSelector(object: selector)).matches(labels.compactMapValues(\.stringValue)) { return false }
        }
        if let selector = match["objectSelector"], selector != .emptyObject {
            let labels = (context.object[path: ["metadata", "labels"]] ?? context.request.old?[path: ["metadata", "labels"]])?.objectValue ?? [:]
            if !(try LabelSelector(object: selector)).matches(labels.compactMapValues(\.stringValue)) { return false }
        }
        return true
    }

    /// The parameter objects a binding gives its policy (one `nil` when it takes none).
    private func params(_ policy: AdmissionPolicyIndex.Policy, _ binding: AdmissionPolicyIndex.Binding,
                        _ context: inout Context) async throws -> [JSON?] {
        guard let kind = policy.paramKind, let reference = binding.paramRef else { return [nil] }
        let parts = kind.apiVersion.split(separator: "/").map(String.init)
        let (group, version) = parts.count == 2 ? (parts[0], parts[1]) : ("", parts.first ?? "v1")
        guard let resource = catalog.resources(group: group, version: version).first(where: { $0.kind == kind.kind }) else {
            throw StatusError.invalid(kind: "ValidatingAdmissionPolicy", group: Self.group, name: policy.name, causes: [
                .init(field: "spec.paramKind", message: "Invalid value: failed to find resource for param kind \(kind.kind)"),
            ])
        }
        let namespace = resource.namespaced ? (reference["namespace"]?.stringValue ?? context.request.namespace) : nil
        var found: [JSON] = []
        if let name = reference["name"]?.stringValue {
            let key = RegistryKey(group: group, resource: resource.plural, namespace: namespace, name: name).path
            if let param = try await store.get(key) { found.append(param.object) }
        } else {
            let selector = try LabelSelector(object: reference["selector"] ?? .emptyObject)
            let prefix = namespace.map { RegistryKey.namespacePrefix(group: group, resource: resource.plural, namespace: $0) } ?? resource.keyPrefix
            try await store.forEach(prefix: prefix) { entry in
                let param = try entry.decoded()
                if selector.matches((param[path: ["metadata", "labels"]]?.objectValue ?? [:]).compactMapValues(\.stringValue)) {
                    found.append(param)
                }
            }
        }
        if found.isEmpty {
            if reference["parameterNotFoundAction"]?.stringValue == "Allow" { return [] }
            throw StatusError(code: 403, reason: "Forbidden",
                              message: "ValidatingAdmissionPolicy '\(policy.name)' with binding '\(binding.name)' denied request: failed to configure binding: no params found for policy binding with `Deny` parameterNotFoundAction",
                              details: ["name": .string(context.request.name), "kind": .string(context.request.resource.plural)])
        }
        return found
    }

    /// The failed validations of a policy (none when its match conditions do not all hold)
    /// and its audit annotations.
    private func evaluate(_ policy: AdmissionPolicyIndex.Policy, params json: JSON?,
                          _ context: inout Context) async throws -> ([Failure], [String: String]) {
        _ = try await context.namespace()
        let params = json.map(CELValue.init) ?? .null
        var variables: [String: CELValue] = [:]
        func failed(_ compiled: AdmissionPolicyIndex.Compiled, _ error: any Error, index: Int) -> [Failure] {
            policy.failurePolicyIgnores ? [] : [Failure(message: "expression '\(compiled.source)' resulted in error: \(error)", reason: "Invalid", index: index)]
        }
        for (name, expression) in policy.variables {
            if let value = try? context.evaluate(expression, params: params, variables: variables) { variables[name] = value }
        }
        for (index, condition) in policy.matchConditions.enumerated() {
            do {
                guard case .bool(let holds) = try context.evaluate(condition.expression, params: params, variables: variables) else {
                    throw CELError("match condition '\(condition.name)' did not evaluate to a bool")
                }
                if !holds { return ([], [:]) }
            } catch {
                return (failed(condition.expression, error, index: index), [:])
            }
        }
        var failures: [Failure] = []
        for (index, validation) in policy.validations.enumerated() {
            do {
                let result = try context.evaluate(validation.expression, params: params, variables: variables)
                guard case .bool(let passed) = result else { throw CELError("expression did not evaluate to a bool but to \(result.typeName)") }
                if passed { continue }
                var message = validation.message ?? "failed expression: \(validation.expression.source)"
                if let messageExpression = validation.messageExpression,
                   case .string(let text)? = try? context.evaluate(messageExpression, params: params, variables: variables), !text.isEmpty {
                    message = text
                }
                failures.append(Failure(message: message, reason: validation.reason, index: index))
            } catch {
                failures += failed(validation.expression, error, index: index)
            }
        }
        var annotations: [String: String] = [:]
        for (key, expression) in policy.auditAnnotations {
            if case .string(let value)? = try? context.evaluate(expression, params: params, variables: variables) {
                annotations["\(policy.name)/\(key)"] = value
            }
        }
        return (failures, annotations)
    }
}
