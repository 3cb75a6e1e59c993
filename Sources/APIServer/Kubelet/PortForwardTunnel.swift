/// Port forwarding for WebSocket clients that tunnel SPDY (kubectl 1.31 and later offer
/// `SPDY/3.1+portforward.k8s.io`): the client's SPDY bytes travel inside binary WebSocket
/// messages, and go unchanged to a SPDY/3.1 upgrade of the kubelet's `/portForward`; the
/// kubelet's bytes come back as binary messages. The agreed protocol is answered with the
/// prefix, as kube-apiserver's tunnelling handler answers it.
struct PortForwardTunnel: Sendable {
    static let prefix = "SPDY/3.1+"

    let dialer: BackendDialer

    func response(_ http: HTTPRequest, target: String, kubelet: KubeletLocator.Address) async throws -> HTTPResponse {
        let key = try WebSocketHandshake.key(http.headers)
        let versions = WebSocketHandshake.offeredProtocols(http.headers)
            .filter { $0.hasPrefix(Self.prefix) }
            .map { String($0.dropFirst(Self.prefix.count)) }
        var headers: [(name: String, value: String)] = [("Connection", "Upgrade"), ("Upgrade", "SPDY/3.1")]
        for version in versions where BackendRequest.safe(version) { headers.append(("X-Stream-Protocol-Version", version)) }
        let upgrade = BackendRequest(method: "POST", target: target, host: kubelet.text, headers: headers)
        let (backend, leftover, agreed) = try await SPDYUpgrade.open(upgrade, kubelet: kubelet, dialer: dialer, expecting: versions)
        return HTTPResponse(status: .switchingProtocols, body: .upgrade { client in
            try await client.write(WebSocketHandshake.accept(key: key, subprotocol: Self.prefix + agreed))
            let socket = WebSocketConnection(client)
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    do {
                        if !leftover.isEmpty { try await socket.send(.binary, leftover) }
                        for try await chunk in backend.inbound {
                            try await socket.send(.binary, Array(chunk.readableBytesView))
                        }
                    } catch {}
                    await socket.sendClose(1000)
                }
                group.addTask {
                    var messages = socket.messages()
                    do {
                        while let (opcode, payload) = try await messages.next() {
                            if opcode == .binary, !payload.isEmpty { try await backend.write(payload) }
                        }
                    } catch {}
                }
                await group.next()
                client.close()
                backend.close()
                group.cancelAll()
            }
        })
    }
}
