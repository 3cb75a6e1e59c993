import Foundation

/// Where a webhook is called and how: an admission webhook's or a conversion webhook's
/// `clientConfig` (a URL, or a Service reached through its EndpointSlices and verified under
/// the name `SERVICE.NAMESPACE.svc`), its caBundle and its timeout.
struct WebhookTarget: Sendable {
    enum Destination: Sendable {
        case url(scheme: String, host: String, port: Int, path: String)
        case service(namespace: String, name: String, port: Int, path: String)
    }

    /// Identifies the webhook (its concurrent-call limit is kept under this name).
    let id: String
    /// The destination, or why the configuration gives none that can be called.
    let destination: Result<Destination, WebhookCallError>
    /// The PEM trust roots (caBundle); nil: the system's.
    let caBundle: String?
    /// How long one call may take (1 to 30 seconds).
    let timeout: Duration

    init(id: String, clientConfig client: JSON, timeoutSeconds: Int64) {
        self.id = id
        timeout = .seconds(min(30, max(1, timeoutSeconds)))
        let bundle = client["caBundle"]?.stringValue ?? ""
        let decoded = Data(base64Encoded: bundle).map { String(decoding: $0, as: UTF8.self) }
        caBundle = decoded.flatMap { $0.isEmpty ? nil : $0 }
        // A caBundle that is not base64 must not fall back to the system's roots.
        destination = !bundle.isEmpty && decoded == nil ? .failure(.configuration("clientConfig.caBundle is not base64")) : Self.destination(client)
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
