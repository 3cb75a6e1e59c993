import NIOHTTP1

/// `pods/NAME/proxy/…`, `nodes/NAME/proxy/…` and `services/NAME/proxy/…`: the request, with
/// the path after `proxy`, its query, headers (without the client's credentials) and body,
/// relayed to the pod's IP, the node's kubelet, or one ready endpoint of the service, and the
/// answer relayed back; an upgrade is spliced. The name may carry a scheme and a port:
/// `[https:]NAME[:PORT]` (a service's port by name or number). A backend out of reach is
/// kube-apiserver's 503 "error trying to reach service".
struct ProxySubresource: SubresourceHandler {
    enum Target: Sendable {
        case pod, node, service
    }

    let target: Target
    let relay: BackendRelay?

    func serve(_ request: ResourceRequest, engine: ResourceEngine) async throws -> HTTPResponse {
        let methods: [HTTPMethod] = [.GET, .HEAD, .POST, .PUT, .PATCH, .DELETE]
        guard methods.contains(request.http.method) else {
            throw StatusError.methodNotAllowed("the server does not allow this method on the requested resource")
        }
        let (scheme, name, port) = try Self.split(try request.name())
        let backend = try await locate(name: name, scheme: scheme, port: port, request, engine: engine)
        guard let relay else { throw StatusError.serviceUnavailable("this server does not connect to backends") }
        let rawQuery = request.http.uri.split(separator: "?", maxSplits: 1).dropFirst().first.map(String.init)
        var target = Self.remainder(request)
        if let rawQuery, !rawQuery.isEmpty { target += "?" + rawQuery }
        let upgrade = PodStreamSubresource.isUpgrade(request.http.headers)
        let forwarded = BackendRequest(method: request.http.method.rawValue, target: target,
                                       host: BackendDialer.address(backend.host, backend.port),
                                       headers: BackendRelay.forwardedHeaders(request.http.headers, upgrade: upgrade),
                                       body: request.http.body)
        do {
            if upgrade { return try await relay.upgrade(forwarded, host: backend.host, port: backend.port, transport: backend.transport) }
            return try await relay.exchange(forwarded, host: backend.host, port: backend.port, transport: backend.transport)
        } catch let error as BackendError {
            throw StatusError.serviceUnavailable("error trying to reach service: \(error)")
        }
    }

    private struct Backend {
        var host: String
        var port: Int
        var transport: BackendDialer.Transport
    }

    private func locate(name: String, scheme: String, port: String, _ request: ResourceRequest,
                        engine: ResourceEngine) async throws -> Backend {
        switch target {
        case .node:
            let kubelet = try await KubeletLocator.address(ofNode: name, engine: engine)
            let chosen = try port.isEmpty ? kubelet.port : Self.number(port)
            return Backend(host: kubelet.host, port: chosen, transport: scheme == "http" ? .plain : .kubelet)
        case .pod:
            let pod = try await engine.current(request, name: name).object
            let ip = pod[path: ["status", "podIPs"]]?.arrayValue?.first?["ip"]?.stringValue
                ?? pod[path: ["status", "podIP"]]?.stringValue ?? ""
            guard !ip.isEmpty else { throw StatusError.serviceUnavailable("pod \(name) has no IP address yet") }
            var chosen = 80
            if !port.isEmpty {
                chosen = try Self.number(port)
            } else if let first = (pod[path: ["spec", "containers"]]?.arrayValue ?? [])
                .lazy.compactMap({ $0["ports"]?.arrayValue?.first?["containerPort"]?.intValue }).first {
                chosen = Int(first)
            }
            return Backend(host: ip, port: chosen, transport: scheme == "https" ? .tls : .plain)
        case .service:
            let endpoint = try await Self.endpoint(service: name, port: port, request, engine: engine)
            return Backend(host: endpoint.host, port: endpoint.port, transport: scheme == "https" ? .tls : .plain)
        }
    }

    /// A ready address of the service's Endpoints, on the endpoint port named as the
    /// service port the request names (by name or number; none: the service's unnamed port).
    private static func endpoint(service name: String, port: String, _ request: ResourceRequest,
                                 engine: ResourceEngine) async throws -> (host: String, port: Int) {
        let service = try await engine.current(request, name: name).object
        let ports = service[path: ["spec", "ports"]]?.arrayValue ?? []
        guard let servicePort = ports.first(where: { ($0["name"]?.stringValue ?? "") == port || (!port.isEmpty && $0["port"]?.intValue.map(String.init) == port) }) else {
            throw StatusError.serviceUnavailable("no service port \(ConnectParameters.quoted(port)) found for service \"\(name)\"")
        }
        let portName = servicePort["name"]?.stringValue ?? ""
        guard let endpointsResource = engine.catalog.resource(group: "", version: "v1", plural: "endpoints"),
              let endpoints = try await engine.store.get(endpointsResource.key(namespace: request.namespace, name: name)) else {
            throw StatusError.serviceUnavailable("no endpoints available for service \"\(name)\"")
        }
        for subset in endpoints.object["subsets"]?.arrayValue ?? [] {
            let addresses = (subset["addresses"]?.arrayValue ?? []).compactMap { $0["ip"]?.stringValue }.filter { !$0.isEmpty }
            guard let matched = (subset["ports"]?.arrayValue ?? []).first(where: { ($0["name"]?.stringValue ?? "") == portName }),
                  let number = matched["port"]?.intValue, let address = addresses.randomElement() else { continue }
            return (address, Int(number))
        }
        throw StatusError.serviceUnavailable("no endpoints available for service \"\(name)\"")
    }

    /// kube-apiserver's `[scheme:]name[:port]`; the scheme is `http`, `https` or empty.
    static func split(_ id: String) throws -> (scheme: String, name: String, port: String) {
        let parts = id.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        let result: (String, String, String)
        switch parts.count {
        case 1: result = ("", parts[0], "")
        case 2: result = ("", parts[0], parts[1])
        case 3: result = (parts[0], parts[1], parts[2])
        default: throw StatusError.badRequest("invalid request \(ConnectParameters.quoted(id))")
        }
        guard ["", "http", "https"].contains(result.0), !result.1.isEmpty else {
            throw StatusError.badRequest("invalid request \(ConnectParameters.quoted(id))")
        }
        return result
    }

    private static func number(_ port: String) throws -> Int {
        guard let number = Int(port), (1...65535).contains(number) else {
            throw StatusError.badRequest("invalid port \(ConnectParameters.quoted(port))")
        }
        return number
    }

    /// The request's path after `…/NAME/proxy`, as the client escaped it; `/` when empty.
    static func remainder(_ request: ResourceRequest) -> String {
        let rawPath = String(request.http.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
        var segments = rawPath.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        if segments.first == "" { segments.removeFirst() }
        let prefix = (request.info.group.isEmpty ? 2 : 3) + (request.info.namespace != nil ? 2 : 0) + 3
        guard segments.count > prefix else { return "/" }
        return "/" + segments.dropFirst(prefix).joined(separator: "/")
    }
}
