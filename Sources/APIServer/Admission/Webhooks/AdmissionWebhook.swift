import Foundation

/// One webhook of a MutatingWebhookConfiguration or ValidatingWebhookConfiguration, as
/// admission reads it: what it matches, how it fails, and where it is called. Expressions and
/// selectors are parsed once per change of the configurations.
struct AdmissionWebhook: Sendable {
    enum FailurePolicy: Sendable { case fail, ignore }

    /// Where the webhook is called: a URL, or a Service (reached through its EndpointSlices,
    /// verified under the name `SERVICE.NAMESPACE.svc`).
    enum Destination: Sendable {
        case url(scheme: String, host: String, port: Int, path: String)
        case service(namespace: String, name: String, port: Int, path: String)
    }

    /// The webhook's name, unique within its configuration, and the configuration's.
    let name: String
    let configuration: String
    /// Identifies the webhook among all configurations (reinvocation, call limits).
    var id: String { configuration + "/" + name }
    let rules: [AdmissionRule]
    let matchesEquivalent: Bool
    let namespaceSelector: Result<LabelSelector, StatusError>?
    let objectSelector: Result<LabelSelector, StatusError>?
    let matchConditions: [(name: String, expression: AdmissionPolicyIndex.Compiled)]
    let failurePolicy: FailurePolicy
    /// How long one call may take (timeoutSeconds, 1 to 30, default 10).
    let timeout: Duration
    /// Whether a dry-run request may call it (sideEffects None or NoneOnDryRun).
    let safeOnDryRun: Bool
    /// Whether it is called again when a later webhook changed the object (IfNeeded).
    let reinvokedIfNeeded: Bool
    /// Whether it accepts AdmissionReview v1 (the only version Skiff sends).
    let acceptsV1: Bool
    /// The destination, or why the configuration gives none that can be called.
    let destination: Result<Destination, WebhookCallError>
    /// The PEM trust roots (caBundle); nil: the system's.
    let caBundle: String?

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
        let seconds = webhook["timeoutSeconds"]?.intValue ?? 10
        timeout = .seconds(min(30, max(1, seconds)))
        let sideEffects = webhook["sideEffects"]?.stringValue ?? "Unknown"
        safeOnDryRun = sideEffects == "None" || sideEffects == "NoneOnDryRun"
        reinvokedIfNeeded = webhook["reinvocationPolicy"]?.stringValue == "IfNeeded"
        let versions = (webhook["admissionReviewVersions"]?.arrayValue ?? []).compactMap(\.stringValue)
        acceptsV1 = versions.isEmpty || versions.contains("v1")
        let client = webhook["clientConfig"] ?? .emptyObject
        caBundle = client["caBundle"]?.stringValue.flatMap { Data(base64Encoded: $0) }.map { String(decoding: $0, as: UTF8.self) }
            .flatMap { $0.isEmpty ? nil : $0 }
        destination = Self.destination(client)
    }

    private static func destination(_ client: JSON) -> Result<Destination, WebhookCallError> {
        if let service = client["service"], service != .null {
            let namespace = service["namespace"]?.stringValue ?? "", name = service["name"]?.stringValue ?? ""
            guard !namespace.isEmpty, !name.isEmpty else { return .failure(.configuration("clientConfig.service needs a namespace and a name")) }
            let port = service["port"]?.intValue ?? 443
            guard (1...65535).contains(port) else { return .failure(.configuration("clientConfig.service.port \(port) is out of range")) }
            var path = service["path"]?.stringValue ?? "/"
            if !path.hasPrefix("/") { path = "/" + path }
            return .success(.service(namespace: namespace, name: name, port: Int(port), path: path))
        }
        guard let text = client["url"]?.stringValue, let url = URLComponents(string: text), let host = url.host, !host.isEmpty else {
            return .failure(.configuration("clientConfig needs a url or a service"))
        }
        guard url.scheme == "https" else { return .failure(.configuration("clientConfig.url must use https, not \(url.scheme ?? "no scheme")")) }
        guard url.user == nil, url.fragment == nil else { return .failure(.configuration("clientConfig.url may not carry user information or a fragment")) }
        let port = url.port ?? 443
        guard (1...65535).contains(port) else { return .failure(.configuration("clientConfig.url's port \(port) is out of range")) }
        var path = url.percentEncodedPath.isEmpty ? "/" : url.percentEncodedPath
        if let query = url.percentEncodedQuery { path += "?" + query }
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        return .success(.url(scheme: "https", host: bare, port: port, path: path))
    }
}
