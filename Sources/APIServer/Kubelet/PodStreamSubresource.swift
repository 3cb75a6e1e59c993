import NIOHTTP1

/// `pods/NAME/exec`, `pods/NAME/attach` and `pods/NAME/portforward`: an upgraded connection
/// to the pod's kubelet (`/exec/NS/POD/CONTAINER`, `/attach/…`, `/portForward/NS/POD`), as
/// kube-apiserver makes it:
/// - a SPDY/3.1 upgrade, and a WebSocket upgrade for a protocol the kubelet speaks itself
///   (`v4.channel.k8s.io` and older), go to the kubelet unchanged and are spliced;
/// - a WebSocket upgrade offering `v5.channel.k8s.io` (kubectl 1.30 and later) is answered
///   here and translated to SPDY streams to the kubelet (``RemoteCommandTranslator``);
/// - a port-forward WebSocket offering `SPDY/3.1+portforward.k8s.io` carries SPDY inside its
///   messages, which go to a SPDY upgrade of the kubelet (``PortForwardTunnel``).
struct PodStreamSubresource: SubresourceHandler {
    enum Kind: String, Sendable {
        case exec, attach, portforward
    }

    let kind: Kind
    let relay: BackendRelay?

    func serve(_ request: ResourceRequest, engine: ResourceEngine) async throws -> HTTPResponse {
        guard request.http.method == .GET || request.http.method == .POST else {
            throw StatusError.methodNotAllowed("the server does not allow this method on the requested resource")
        }
        let name = try request.name()
        let parameters = ConnectParameters(request: request)
        let pod = try await engine.current(request, name: name).object
        let namespace = BackendRelay.escape(request.namespace ?? "", component: .query)
        let escapedName = BackendRelay.escape(name, component: .query)
        let path: String
        var query: [(String, String)] = []
        var streams = RemoteCommandStreams()
        switch kind {
        case .exec, .attach:
            let container = try KubeletLocator.container(parameters.string("container"), of: pod, name: name)
            streams = RemoteCommandStreams(stdin: try parameters.bool("stdin"), stdout: try parameters.bool("stdout"),
                                           stderr: try parameters.bool("stderr"), tty: try parameters.bool("tty"))
            if streams.stdin { query.append(("input", "1")) }
            if streams.stdout { query.append(("output", "1")) }
            if streams.stderr { query.append(("error", "1")) }
            if streams.tty { query.append(("tty", "1")) }
            if kind == .exec {
                let command = parameters.strings("command")
                guard !command.isEmpty else { throw StatusError.badRequest("you must specify at least one command for the container") }
                query += command.map { ("command", $0) }
            }
            guard streams.stdin || streams.stdout || streams.stderr else {
                throw StatusError.badRequest("you must specify at least 1 of stdin, stdout, stderr")
            }
            path = "/\(kind.rawValue)/\(namespace)/\(escapedName)/\(BackendRelay.escape(container, component: .query))"
        case .portforward:
            var ports: [String] = []
            for text in parameters.strings("ports").flatMap({ $0.split(separator: ",").map(String.init) }) {
                guard let port = Int(text.trimmingCharacters(in: .whitespaces)), (1...65535).contains(port) else {
                    throw StatusError.badRequest("invalid port \(ConnectParameters.quoted(text)): ports must be numbers from 1 to 65535")
                }
                ports.append(String(port))
            }
            if !ports.isEmpty { query.append(("port", ports.joined(separator: ","))) }
            path = "/portForward/\(namespace)/\(escapedName)"
        }
        let kubelet = try await KubeletLocator.address(ofPod: pod, name: name, engine: engine)
        let headers = request.http.headers
        guard Self.isUpgrade(headers) else { throw StatusError.badRequest("Upgrade request required") }
        guard let relay else { throw StatusError.serviceUnavailable("this server does not connect to kubelets") }
        let target = query.isEmpty ? path : path + "?" + BackendRelay.query(query)
        let offered = WebSocketHandshake.offeredProtocols(headers)
        if WebSocketHandshake.isWebSocket(headers) {
            if kind != .portforward, offered.contains(RemoteCommandTranslator.clientProtocol) {
                return try await RemoteCommandTranslator(dialer: relay.dialer)
                    .response(request.http, target: target, kubelet: kubelet, streams: streams)
            }
            if kind == .portforward, offered.contains(where: { $0.hasPrefix(PortForwardTunnel.prefix) }) {
                return try await PortForwardTunnel(dialer: relay.dialer).response(request.http, target: target, kubelet: kubelet)
            }
        }
        let backend = BackendRequest(method: request.http.method.rawValue, target: target, host: kubelet.text,
                                     headers: BackendRelay.forwardedHeaders(headers, upgrade: true))
        return try await relay.upgrade(backend, host: kubelet.host, port: kubelet.port, transport: .kubelet)
    }

    /// Whether the request asks to leave HTTP (`Connection: Upgrade` with an `Upgrade` field).
    static func isUpgrade(_ headers: HTTPHeaders) -> Bool {
        let connection = headers[canonicalForm: "connection"].map { $0.lowercased() }
        return connection.contains("upgrade") && !(headers.first(name: "upgrade") ?? "").isEmpty
    }
}

/// Which standard streams a remote command has.
struct RemoteCommandStreams: Sendable {
    var stdin = false
    var stdout = false
    var stderr = false
    var tty = false
}
