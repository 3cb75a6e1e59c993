import Foundation
import NIOHTTP1
import NIOSSL
import Synchronization

/// Serves a request under `/apis/GROUP/VERSION` of an APIService that names a Service:
/// relays it to a ready endpoint of that Service (Skiff runs no kube-proxy) over TLS with
/// the front proxy's client certificate, the server verified against the APIService's
/// caBundle. The client's credentials stay here; the user this server authenticated (and
/// authorized) goes as `X-Remote-User`, `X-Remote-Uid`, `X-Remote-Group` and
/// `X-Remote-Extra-KEY` headers, which the aggregated server trusts because of the
/// certificate. As kube-aggregator's proxy does.
struct AggregatorProxy: Sendable {
    /// At most this many requests at once per APIService (watches included); more are 429.
    static let concurrentRequests = 256

    let endpoints: ServiceEndpoints
    let relay: BackendRelay
    let tls: FrontProxyTLS
    private let inFlight = InFlightCounter(limit: AggregatorProxy.concurrentRequests)
    /// Connections kept alive between requests, as Go's transport keeps kube-aggregator's.
    private let pool = IdleConnections()

    init(endpoints: ServiceEndpoints, relay: BackendRelay, tls: FrontProxyTLS) {
        self.endpoints = endpoints
        self.relay = relay
        self.tls = tls
    }

    func serve(_ request: HTTPRequest, to service: AggregatedAPIService, user: UserInfo) async throws -> HTTPResponse {
        guard let reference = service.service else { throw StatusError.notFoundPath(request.path) }
        guard service.available else {
            throw StatusError.serviceUnavailable("service unavailable: the APIService \(service.name) is not available")
        }
        let address: (address: String, port: Int)
        do {
            address = try await endpoints.readyEndpoint(namespace: reference.namespace, service: reference.name, port: reference.port)
        } catch let unreachable as ServiceEndpoints.Unreachable {
            throw StatusError.serviceUnavailable("service unavailable: \(unreachable.reason)")
        }
        let context: NIOSSLContext
        do {
            context = try tls.context(for: service)
        } catch {
            throw StatusError.internalError("the caBundle of the APIService \(service.name) is not usable: \(error)")
        }
        guard inFlight.enter(service.name) else {
            throw StatusError.tooManyRequests("too many requests to the aggregated API \(service.name) at once; try again")
        }
        var released = false
        defer { if !released { inFlight.leave(service.name) } }
        let upgrade = PodStreamSubresource.isUpgrade(request.headers)
        let forwarded = BackendRequest(method: request.method.rawValue, target: request.uri,
                                       host: BackendDialer.address(address.address, address.port),
                                       headers: Self.headers(request.headers, user: user, upgrade: upgrade), body: request.body)
        let transport = BackendDialer.Transport.verified(context, serverName: "\(reference.name).\(reference.namespace).svc")
        var response: HTTPResponse
        do {
            response = upgrade
                ? try await relay.upgrade(forwarded, host: address.address, port: address.port, transport: transport)
                : try await relay.exchange(forwarded, host: address.address, port: address.port, transport: transport, pool: pool,
                                           key: "\(service.transportKey)|\(address.address)|\(address.port)")
        } catch let error as BackendError {
            throw StatusError.serviceUnavailable("error trying to reach service: \(error)")
        }
        // A streamed answer (a watch) or a spliced upgrade counts until it ends.
        let counter = inFlight, name = service.name
        switch response.body {
        case .stream(let produce):
            released = true
            response.body = .stream { writer in
                defer { counter.leave(name) }
                try await produce(writer)
            }
        case .upgrade(let splice):
            released = true
            response.body = .upgrade { client in
                defer { counter.leave(name) }
                try await splice(client)
            }
        case .bytes:
            break
        }
        return response
    }

    /// The headers the aggregated server gets: the client's, without its credentials,
    /// hop-by-hop fields, impersonation and identity headers, with the identity headers of
    /// `user` added.
    static func headers(_ headers: HTTPHeaders, user: UserInfo, upgrade: Bool) -> [(name: String, value: String)] {
        var out = BackendRelay.forwardedHeaders(headers, upgrade: upgrade).filter { !$0.name.lowercased().hasPrefix("x-remote-") }
        out += identityHeaders(user)
        return out
    }

    /// `X-Remote-User`, `X-Remote-Uid` (when the user has one), one `X-Remote-Group` per
    /// group, and `X-Remote-Extra-KEY` per extra value, the key path-escaped; values that
    /// could break the request's framing are left out.
    static func identityHeaders(_ user: UserInfo) -> [(name: String, value: String)] {
        var out: [(name: String, value: String)] = []
        if BackendRequest.safe(user.name) { out.append(("X-Remote-User", user.name)) }
        if !user.uid.isEmpty, BackendRequest.safe(user.uid) { out.append(("X-Remote-Uid", user.uid)) }
        for group in user.groups where BackendRequest.safe(group) { out.append(("X-Remote-Group", group)) }
        for key in user.extra.keys.sorted() {
            // Go's url.PathEscape: `/` and spaces escaped too.
            let name = "X-Remote-Extra-" + BackendRelay.escape(key, component: .query).replacingOccurrences(of: "+", with: "%20")
            for value in user.extra[key] ?? [] where BackendRequest.safe(value) { out.append((name, value)) }
        }
        return out
    }
}

/// Counts requests in flight by name, refusing more than `limit` for one name.
final class InFlightCounter: Sendable {
    let limit: Int
    private let counts = Mutex<[String: Int]>([:])

    init(limit: Int) { self.limit = limit }

    func enter(_ name: String) -> Bool {
        counts.withLock { counts in
            let now = counts[name, default: 0]
            guard now < limit else { return false }
            counts[name] = now + 1
            return true
        }
    }

    func leave(_ name: String) {
        counts.withLock { counts in
            let now = counts[name, default: 1] - 1
            counts[name] = now > 0 ? now : nil
        }
    }
}
