import NIOConcurrencyHelpers
import NIOCore

/// Fetches an aggregated API server's discovery document (`/apis/GROUP/VERSION`) as
/// kube-aggregator's availability check does: over TLS with the front proxy's client
/// certificate and without verifying the server, as `system:kube-aggregator` in
/// `system:masters`, within ``timeout``. A 2xx answer passes the check; its `resources`
/// (nil when the document is not an APIResourceList) feed discovery.
struct DiscoveryProbe: Sendable {
    static let timeout = Duration.seconds(5)
    static let responseLimit = 4 * 1024 * 1024
    static let identity = UserInfo(name: "system:kube-aggregator", groups: ["system:masters"])

    let dialer: BackendDialer
    let tls: FrontProxyTLS

    /// Why a probe failed, in kube-aggregator's words.
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    private struct BadStatus: Error, CustomStringConvertible {
        let description: String
    }

    /// What a passed probe read: the discovery document's resources, and where the server's
    /// OpenAPI v3 document of the group version is (its `/openapi/v3` root's
    /// `serverRelativeURL`, read on the same connection; nil when it has none).
    struct Answer: Sendable {
        var resources: [JSON]?
        var openAPIPath: String?
    }

    func fetch(_ service: AggregatedAPIService, host: String, port: Int) async throws(Failure) -> Answer {
        let url = "https://\(BackendDialer.address(host, port))\(service.discoveryPath)"
        let headers = [("Accept", "application/json"), ("User-Agent", "skiff-apiserver/aggregator")]
            + AggregatorProxy.identityHeaders(Self.identity)
        let request = BackendRequest(method: "GET", target: service.discoveryPath, host: BackendDialer.address(host, port), headers: headers)
        let openAPIRequest = BackendRequest(method: "GET", target: "/openapi/v3", host: BackendDialer.address(host, port), headers: headers)
        let openAPIKey = String(service.discoveryPath.dropFirst())
        var limited = dialer
        limited.connectTimeout = .seconds(5)
        limited.handshakeTimeout = .seconds(5)
        let bounded = limited
        let opened = NIOLockedValueBox<ByteStream?>(nil)
        do {
            return try await withThrowingTaskGroup(of: Answer?.self) { group in
                group.addTask {
                    let stream = try await bounded.dial(host: host, port: port, transport: .verified(tls.unverified, serverName: nil))
                    opened.withLockedValue { $0 = stream }
                    defer { stream.close() }
                    try await stream.write(request.serialized())
                    let reader = BackendResponse(stream)
                    let head = try await reader.readHead()
                    guard (200...299).contains(head.status) else {
                        throw BadStatus(description: "bad status from \(url): \(head.status)")
                    }
                    let body = try await reader.body(limit: Self.responseLimit)
                    var answer = Answer(resources: (try? JSON.parse(body))?["resources"]?.arrayValue)
                    // The OpenAPI root on the same connection, when the server keeps it open.
                    // A server without one (or that closes the connection) is still available.
                    if head.header("connection")?.lowercased() != "close", await reader.endedCleanly {
                        do {
                            try await stream.write(openAPIRequest.serialized())
                            let openAPIHead = try await reader.readHead()
                            let root = try await reader.body(limit: Self.responseLimit)
                            if (200...299).contains(openAPIHead.status),
                               let path = (try? JSON.parse(root))?[path: ["paths", openAPIKey, "serverRelativeURL"]]?.stringValue,
                               path.hasPrefix("/openapi/v3/" + openAPIKey) {
                                answer.openAPIPath = path
                            }
                        } catch {}
                    }
                    return answer
                }
                group.addTask {
                    try? await Task.sleep(for: Self.timeout)
                    return nil
                }
                defer {
                    group.cancelAll()
                    opened.withLockedValue { $0?.close() }
                }
                guard let first = try await group.next(), let answer = first else {
                    throw Failure(description: "timed out waiting for \(url)")
                }
                return answer
            }
        } catch let failure as Failure {
            throw failure
        } catch {
            throw Failure(description: "failing or missing response from \(url): \(error)")
        }
    }
}
