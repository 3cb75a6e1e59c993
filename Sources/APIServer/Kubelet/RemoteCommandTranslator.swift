import NIOHTTP1

/// Exec and attach for WebSocket clients that speak `v5.channel.k8s.io` (kubectl 1.30 and
/// later), which kubelets do not: the client's WebSocket is answered here, and the command's
/// streams go to the kubelet as SPDY/3.1 streams of `v4.channel.k8s.io`, as kube-apiserver's
/// stream translator does.
///
/// Each WebSocket message starts with its channel: 0 stdin, 1 stdout, 2 stderr, 3 the error
/// stream (the command's final `Status`), 4 terminal resizes; `[255, channel]` closes a
/// channel (v5: the client's end of stdin). The kubelet's streams are opened by this side,
/// the error stream first, each named by its `streamType` header.
struct RemoteCommandTranslator: Sendable {
    static let clientProtocol = "v5.channel.k8s.io"
    static let kubeletProtocol = "v4.channel.k8s.io"

    let dialer: BackendDialer

    /// Upgrades the kubelet connection and opens the streams before answering, so that a
    /// kubelet out of reach or refusing is a `Status` the client reads as such.
    func response(_ http: HTTPRequest, target: String, kubelet: KubeletLocator.Address,
                  streams: RemoteCommandStreams) async throws -> HTTPResponse {
        let key = try WebSocketHandshake.key(http.headers)
        let upgrade = BackendRequest(method: "POST", target: target, host: kubelet.text, headers: [
            ("Connection", "Upgrade"), ("Upgrade", "SPDY/3.1"), ("X-Stream-Protocol-Version", Self.kubeletProtocol),
        ])
        let (backend, leftover, _) = try await SPDYUpgrade.open(upgrade, kubelet: kubelet, dialer: dialer, expecting: [Self.kubeletProtocol])
        var ids: [String: UInt32] = [:]
        do {
            let compressor = try SPDYHeaderCompressor()
            var frames: [UInt8] = []
            var next: UInt32 = 1
            var types = ["error"]
            if streams.stdin { types.append("stdin") }
            if streams.stdout { types.append("stdout") }
            if streams.stderr { types.append("stderr") }
            if streams.tty { types.append("resize") }
            for type in types {
                frames += try SPDYFrame.synStream(next, headers: [("streamtype", type)], compressor: compressor)
                ids[type] = next
                next += 2
            }
            try await backend.write(frames)
        } catch {
            backend.close()
            throw StatusError.internalError("error opening the streams to the kubelet: \(error)")
        }
        let opened = ids
        return HTTPResponse(status: .switchingProtocols, body: .upgrade { client in
            try await client.write(WebSocketHandshake.accept(key: key, subprotocol: Self.clientProtocol))
            await Self.run(WebSocketConnection(client), kubelet: backend, leftover: leftover, ids: opened)
        })
    }

    /// Carries messages both ways until either side ends, then closes both.
    private static func run(_ client: WebSocketConnection, kubelet: ByteStream, leftover: [UInt8], ids: [String: UInt32]) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                var channels: [UInt32: UInt8] = [:]
                for (type, channel) in [("stdout", UInt8(1)), ("stderr", 2), ("error", 3)] {
                    if let id = ids[type] { channels[id] = channel }
                }
                do {
                    var reader = try SPDYFrameReader(kubelet, leftover: leftover)
                    loop: while let frame = try await reader.next() {
                        switch frame {
                        case .data(let stream, let payload, _):
                            if let channel = channels[stream], !payload.isEmpty {
                                try await client.send(.binary, [channel] + payload)
                            }
                        case .ping(let id):
                            try await kubelet.write(SPDYFrame.ping(id))
                        case .goAway:
                            break loop
                        default:
                            continue
                        }
                    }
                } catch {}
                await client.sendClose(1000)
            }
            group.addTask {
                var messages = client.messages()
                do {
                    while let (opcode, payload) = try await messages.next() {
                        guard opcode == .binary, let channel = payload.first else { continue }
                        let data = Array(payload.dropFirst())
                        switch channel {
                        case 0:
                            if let id = ids["stdin"], !data.isEmpty { try await kubelet.write(SPDYFrame.data(id, data)) }
                        case 4:
                            if let id = ids["resize"], !data.isEmpty { try await kubelet.write(SPDYFrame.data(id, data)) }
                        case 255:
                            // v5's close signal: the client has no more stdin.
                            if data.first == 0, let id = ids["stdin"] { try await kubelet.write(SPDYFrame.data(id, [], fin: true)) }
                        default:
                            continue
                        }
                    }
                } catch {}
            }
            await group.next()
            client.stream.close()
            kubelet.close()
            group.cancelAll()
        }
    }
}

/// The SPDY/3.1 upgrade of a kubelet connection: dialled, asked, and checked for `101` and
/// an agreed protocol. A refusal becomes a `Status` with the kubelet's code and text.
enum SPDYUpgrade {
    static func open(_ request: BackendRequest, kubelet: KubeletLocator.Address, dialer: BackendDialer,
                     expecting protocols: [String]) async throws -> (stream: ByteStream, leftover: [UInt8], agreed: String) {
        let backend: ByteStream
        do {
            backend = try await dialer.dial(host: kubelet.host, port: kubelet.port, transport: .kubelet)
        } catch {
            throw StatusError.internalError("error dialing backend: \(error)")
        }
        let deadline = backend.closeAfter(BackendRelay.answerTimeout)
        defer { deadline.cancel() }
        do {
            try await backend.write(request.serialized())
            let response = BackendResponse(backend)
            let head = try await response.readHead()
            guard head.status == 101 else {
                let body = (try? await response.body(limit: 64 * 1024)) ?? []
                backend.close()
                let text = String(decoding: body, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                throw StatusError(code: head.status, reason: BackendRelay.reason(forCode: head.status),
                                  message: text.isEmpty ? "the kubelet answered \(head.status) to the upgrade" : text)
            }
            let agreed = head.header("x-stream-protocol-version") ?? ""
            guard protocols.contains(agreed) else {
                backend.close()
                throw StatusError.internalError("the kubelet did not agree to a stream protocol (offered \(protocols.joined(separator: ", ")), got \"\(agreed)\")")
            }
            return (backend, await response.leftover(), agreed)
        } catch let error as StatusError {
            throw error
        } catch {
            backend.close()
            throw StatusError.internalError("error upgrading the kubelet connection: \(error)")
        }
    }
}
