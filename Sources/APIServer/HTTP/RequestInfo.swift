import NIOHTTP1

/// What a resource request addresses, read from its path, method and query: the
/// kube-apiserver URL layout `/api/v1/...` and `/apis/GROUP/VERSION/...`, then
/// `[namespaces/NS/]RESOURCE[/NAME[/SUBRESOURCE]]`.
public struct RequestInfo: Sendable, Hashable {
    public enum Verb: String, Sendable {
        case get, list, watch, create, update, patch, delete, deletecollection
    }

    public var group: String
    public var version: String
    public var namespace: String?
    public var resource: String
    public var name: String?
    public var subresource: String?
    public var verb: Verb

    /// Subresources that open a stream to a pod's kubelet.
    public static let streamingSubresources: Set<String> = ["exec", "attach", "portforward"]
    /// Subresources served by a backend (a kubelet, a pod, a service), not by the object.
    public static let connectSubresources: Set<String> = streamingSubresources.union(["log", "proxy"])

    /// Parses a resource path; `nil` if the path is not a resource request (discovery,
    /// health, OpenAPI).
    public init?(method: HTTPMethod, path: String, query: [String: [String]]) {
        var parts = path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        // A leading slash, and one trailing slash, are not segments; an empty segment inside
        // the path names nothing (kube-apiserver answers 404).
        if parts.first == "" { parts.removeFirst() }
        if parts.last == "" { parts.removeLast() }
        guard !parts.contains("") else { return nil }
        if parts.first == "api", parts.count >= 3 {
            group = ""
            version = parts[1]
            parts.removeFirst(2)
        } else if parts.first == "apis", parts.count >= 4 {
            group = parts[1]
            version = parts[2]
            parts.removeFirst(3)
        } else {
            return nil
        }
        namespace = nil
        if parts[0] == "namespaces", parts.count > 1 {
            namespace = parts[1]
            if parts.count > 2, parts[2] != "status", parts[2] != "finalize" {
                parts.removeFirst(2)
            }
        }
        // Only a proxy subresource has a path of its own after it (`pods/NAME/proxy/PATH`).
        guard parts.count <= 3 || parts[2] == "proxy" else { return nil }
        resource = parts[0]
        name = parts.count > 1 ? parts[1] : nil
        subresource = parts.count > 2 ? parts[2] : nil
        if resource == "namespaces" { namespace = nil }
        let watching = ["1", "true"].contains(query["watch"]?.first?.lowercased() ?? "")
        if let subresource, Self.streamingSubresources.contains(subresource), method == .GET || method == .POST {
            // A WebSocket's GET opens exec, attach and port forwarding as a POST does, and
            // needs `create` (kube-apiserver 1.35's AuthorizePodWebsocketUpgradeCreatePermission).
            verb = .create
            return
        }
        switch method {
        case .GET, .HEAD: verb = name == nil ? (watching ? .watch : .list) : (watching ? .watch : .get)
        case .POST: verb = .create
        case .PUT: verb = .update
        case .PATCH: verb = .patch
        case .DELETE: verb = name == nil ? .deletecollection : .delete
        default: return nil
        }
    }
}
