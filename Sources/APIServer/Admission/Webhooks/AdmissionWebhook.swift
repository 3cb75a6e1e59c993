/// One webhook of a MutatingWebhookConfiguration or ValidatingWebhookConfiguration, as
/// admission reads it: what it matches, how it fails, and where it is called. Expressions and
/// selectors are parsed once per change of the configurations.
struct AdmissionWebhook: Sendable {
    enum FailurePolicy: Sendable { case fail, ignore }

    /// The webhook's name, unique within its configuration, and the configuration's.
    let name: String
    let configuration: String
    /// Identifies the webhook among all configurations (reinvocation).
    var id: String { target.id }
    let rules: [AdmissionRule]
    let matchesEquivalent: Bool
    let namespaceSelector: Result<LabelSelector, StatusError>?
    let objectSelector: Result<LabelSelector, StatusError>?
    let matchConditions: [(name: String, expression: AdmissionPolicyIndex.Compiled)]
    let failurePolicy: FailurePolicy
    /// Whether a dry-run request may call it (sideEffects None or NoneOnDryRun).
    let safeOnDryRun: Bool
    /// Whether it is called again when a later webhook changed the object (IfNeeded).
    let reinvokedIfNeeded: Bool
    /// Whether it accepts AdmissionReview v1 (the only version Skiff sends).
    let acceptsV1: Bool
    /// Where and how it is called (clientConfig, timeoutSeconds: 1 to 30, default 10).
    let target: WebhookTarget

    init(_ webhook: JSON, configuration: String) {
        name = webhook["name"]?.stringValue ?? ""
        self.configuration = configuration
        rules = (webhook["rules"]?.arrayValue ?? []).map(AdmissionRule.init)
        matchesEquivalent = (webhook["matchPolicy"]?.stringValue ?? "Equivalent") == "Equivalent"
        func selector(_ field: String) -> Result<LabelSelector, StatusError>? {
            guard let value = webhook[field], value != .emptyObject, value != .null else { return nil }
            return Result { try LabelSelector(object: value) }.mapError { error in
                error as? StatusError ?? StatusError.internalError("webhook \(webhook["name"]?.stringValue ?? ""): \(field): \(error)")
            }
        }
        namespaceSelector = selector("namespaceSelector")
        objectSelector = selector("objectSelector")
        matchConditions = (webhook["matchConditions"]?.arrayValue ?? []).map {
            ($0["name"]?.stringValue ?? "", AdmissionPolicyIndex.Compiled($0["expression"]?.stringValue ?? ""))
        }
        failurePolicy = webhook["failurePolicy"]?.stringValue == "Ignore" ? .ignore : .fail
        let sideEffects = webhook["sideEffects"]?.stringValue ?? "Unknown"
        safeOnDryRun = sideEffects == "None" || sideEffects == "NoneOnDryRun"
        reinvokedIfNeeded = webhook["reinvocationPolicy"]?.stringValue == "IfNeeded"
        let versions = (webhook["admissionReviewVersions"]?.arrayValue ?? []).compactMap(\.stringValue)
        acceptsV1 = versions.isEmpty || versions.contains("v1")
        target = WebhookTarget(id: configuration + "/" + name, clientConfig: webhook["clientConfig"] ?? .emptyObject,
                               timeoutSeconds: webhook["timeoutSeconds"]?.intValue ?? 10)
    }
}
