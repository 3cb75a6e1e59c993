import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOSSL
import Synchronization

/// Calls webhooks (admission, conversion) over HTTPS: resolves a webhook's destination (a URL, or a ready
/// endpoint of a Service's EndpointSlices, since Skiff runs no kube-proxy), verifies the
/// server against the webhook's caBundle, posts the AdmissionReview and reads the answer —
/// within the webhook's timeout, at most ``concurrentCalls`` at a time per webhook, and at
/// most ``responseLimit`` bytes of answer. Connections are kept alive between calls
/// (``IdleConnections``), as Go's HTTP client keeps them.
struct WebhookCaller: Sendable {
    static let responseLimit = 8 * 1024 * 1024
    static let concurrentCalls = 64

    let dialer: BackendDialer
    private let contexts = VerifyingTLSContexts()
    private let limiter = WebhookCallLimiter(limit: WebhookCaller.concurrentCalls)
    private let pool = IdleConnections()

    /// Where a Service's webhook is served.
    let endpoints: ServiceEndpoints

    init(dialer: BackendDialer, endpoints: ServiceEndpoints) {
        self.dialer = dialer
        self.endpoints = endpoints
    }

    /// Posts `review` to the webhook and answers the parsed JSON it sent back.
    func call(_ webhook: WebhookTarget, review: JSON) async throws(WebhookCallError) -> JSON {
        let destination = try webhook.destination.get()
        let timeout = webhook.timeout
        let body = review.serialized()
        do {
            return try await withThrowingTaskGroup(of: JSON?.self) { group in
                // The call's connection, and whether the call is over (a connection opened
                // after that is closed at once).
                let connection = NIOLockedValueBox<(stream: ByteStream?, over: Bool)>((nil, false))
                group.addTask {
                    guard await limiter.acquire(webhook.id) else { throw WebhookCallError.call("context deadline exceeded") }
                    defer { Task { await limiter.release(webhook.id) } }
                    return try await exchange(webhook, destination, body: body, timeout: timeout, connection: connection)
                }
                group.addTask {
                    try? await Task.sleep(for: timeout)
                    return nil
                }
                defer {
                    group.cancelAll()
                    connection.withLockedValue { $0.over = true; $0.stream?.close() }
                }
                guard let first = try await group.next(), let answer = first else {
                    throw WebhookCallError.call("Post \"\(Self.describe(destination, timeout))\": context deadline exceeded")
                }
                return answer
            }
        } catch let error as WebhookCallError {
            throw error
        } catch {
            throw .call("Post \"\(Self.describe(destination, timeout))\": \(error)")
        }
    }

    private func exchange(_ webhook: WebhookTarget, _ destination: WebhookTarget.Destination, body: [UInt8],
                          timeout: Duration, connection: NIOLockedValueBox<(stream: ByteStream?, over: Bool)>) async throws -> JSON {
        let target = Self.describe(destination, timeout)
        let (host, port, path, serverName): (String, Int, String, String?)
        do {
            (host, port, path, serverName) = try await resolve(destination)
        } catch let unreachable as ServiceEndpoints.Unreachable {
            throw WebhookCallError.call("Post \"\(target)\": \(unreachable.reason)")
        }
        let context: NIOSSLContext
        do {
            context = try contexts.context(caBundle: webhook.caBundle)
        } catch {
            throw WebhookCallError.configuration("the caBundle is not usable: \(error)")
        }
        var request = BackendRequest(method: "POST", target: Self.withTimeout(path, timeout),
                                     host: BackendDialer.address(serverName ?? host, port))
        request.headers = [("Content-Type", "application/json"), ("Accept", "application/json, */*"),
                           ("User-Agent", "skiff-apiserver")]
        request.body = body
        let key = "\(webhook.id)|\(host)|\(port)|\(serverName ?? "")|\(webhook.caBundle?.hashValue ?? 0)"
        // A kept-alive connection first; if the server closed it meanwhile (nothing came
        // back), the request goes once more on a new one.
        while let idle = pool.take(key) {
            guard adopt(idle.stream, connection) else { throw WebhookCallError.call("Post \"\(target)\": context deadline exceeded") }
            do {
                let answer = try await roundTrip(request, idle, key: key, target: target)
                release(connection)
                return answer
            } catch let failure as RoundTripFailure where !failure.answered {
                idle.stream.close()
                continue
            } catch let failure as RoundTripFailure {
                throw failure.error
            }
        }
        let stream: ByteStream
        var bounded = dialer
        let budget = TimeAmount.nanoseconds(Int64(timeout.components.seconds) * 1_000_000_000)
        bounded.connectTimeout = budget
        bounded.handshakeTimeout = budget
        do {
            stream = try await bounded.dial(host: host, port: port, transport: .verified(context, serverName: serverName))
        } catch {
            throw WebhookCallError.call("Post \"\(target)\": \(error)")
        }
        guard adopt(stream, connection) else {
            stream.close()
            throw WebhookCallError.call("Post \"\(target)\": context deadline exceeded")
        }
        do {
            let answer = try await roundTrip(request, IdleConnections.Idle(stream: stream, reader: BackendResponse(stream)),
                                             key: key, target: target)
            release(connection)
            return answer
        } catch let failure as RoundTripFailure {
            throw failure.error
        }
    }

    /// Records the call's connection so that its timeout can close it; false when the call
    /// is already over.
    private func adopt(_ stream: ByteStream, _ connection: NIOLockedValueBox<(stream: ByteStream?, over: Bool)>) -> Bool {
        connection.withLockedValue { held in
            held.stream = stream
            return !held.over
        }
    }

    /// Lets go of a call's connection once its answer is read: it may be back in the pool,
    /// and the end of the call must not close it.
    private func release(_ connection: NIOLockedValueBox<(stream: ByteStream?, over: Bool)>) {
        connection.withLockedValue { $0.stream = nil }
    }

    /// A failed round trip, and whether any of the answer had come (a request on a kept-alive
    /// connection that got nothing back is sent again).
    private struct RoundTripFailure: Error {
        let error: WebhookCallError
        let answered: Bool
    }

    /// Sends the request and reads the answer; a connection whose answer ended cleanly and
    /// that the server keeps open goes back to the pool, any other is closed.
    private func roundTrip(_ request: BackendRequest, _ connection: IdleConnections.Idle, key: String,
                           target: String) async throws -> JSON {
        var answered = false
        var kept = false
        defer { if !kept { connection.stream.close() } }
        do {
            try await connection.stream.write(request.serialized())
            let head = try await connection.reader.readHead()
            answered = true
            let answer = try await connection.reader.body(limit: Self.responseLimit)
            if head.raw.starts(with: Array("HTTP/1.1".utf8)), head.header("connection")?.lowercased() != "close",
               await connection.reader.endedCleanly {
                kept = pool.put(key, connection)
            }
            guard (200...299).contains(head.status) else {
                throw WebhookCallError.call("Post \"\(target)\": the server responded with the status code \(head.status)"
                    + (answer.isEmpty ? " but did not return more information" : ": \(String(decoding: answer.prefix(256), as: UTF8.self))"))
            }
            do {
                return try JSON.parse(answer)
            } catch {
                throw WebhookCallError.invalidResponse("the answer is not JSON: \(error)")
            }
        } catch let error as WebhookCallError {
            throw RoundTripFailure(error: error, answered: true)
        } catch {
            throw RoundTripFailure(error: .call("Post \"\(target)\": \(error)"), answered: answered)
        }
    }

    /// Where a call goes: the address to dial, the request path, and the name the server's
    /// certificate must carry (nil: the dialled IP address).
    private func resolve(_ destination: WebhookTarget.Destination) async throws -> (String, Int, String, String?) {
        switch destination {
        case .url(_, let host, let port, let path):
            return (host, port, path, IPAddressBytes(host) == nil ? host : nil)
        case .service(let namespace, let name, let port, let path):
            let (address, targetPort) = try await endpoints.readyEndpoint(namespace: namespace, service: name, port: port)
            return (address, targetPort, path, "\(name).\(namespace).svc")
        }
    }

    /// The URL as kube-apiserver reports it in errors.
    static func describe(_ destination: WebhookTarget.Destination, _ timeout: Duration) -> String {
        switch destination {
        case .url(let scheme, let host, let port, let path):
            return "\(scheme)://\(BackendDialer.address(host, port))\(withTimeout(path, timeout))"
        case .service(let namespace, let name, let port, let path):
            return "https://\(name).\(namespace).svc:\(port)\(withTimeout(path, timeout))"
        }
    }

    /// The path with kube-apiserver's `timeout` parameter telling the webhook its budget.
    static func withTimeout(_ path: String, _ timeout: Duration) -> String {
        path + (path.contains("?") ? "&" : "?") + "timeout=\(timeout.components.seconds)s"
    }
}

/// Admits at most `limit` calls at once per webhook; the others wait their turn (or until
/// their task is cancelled, by the call's timeout).
actor WebhookCallLimiter {
    let limit: Int
    private var inFlight: [String: Int] = [:]
    private var waiting: [String: [(ticket: UInt64, resume: CheckedContinuation<Bool, Never>)]] = [:]
    private var tickets: UInt64 = 0

    init(limit: Int) { self.limit = limit }

    /// Takes a slot; false when the task was cancelled while waiting.
    func acquire(_ id: String) async -> Bool {
        if inFlight[id, default: 0] < limit {
            inFlight[id, default: 0] += 1
            return true
        }
        tickets += 1
        let ticket = tickets
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                if Task.isCancelled { continuation.resume(returning: false); return }
                waiting[id, default: []].append((ticket, continuation))
            }
        } onCancel: {
            Task { await self.cancel(id, ticket) }
        }
    }

    func release(_ id: String) {
        if var queue = waiting[id], !queue.isEmpty {
            let next = queue.removeFirst()
            waiting[id] = queue.isEmpty ? nil : queue
            next.resume.resume(returning: true)
            return
        }
        let left = inFlight[id, default: 1] - 1
        inFlight[id] = left > 0 ? left : nil
    }

    private func cancel(_ id: String, _ ticket: UInt64) {
        guard var queue = waiting[id], let index = queue.firstIndex(where: { $0.ticket == ticket }) else { return }
        let removed = queue.remove(at: index)
        waiting[id] = queue.isEmpty ? nil : queue
        removed.resume.resume(returning: false)
    }
}
