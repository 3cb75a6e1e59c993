import Synchronization

/// Idle HTTP/1.1 connections to backends (webhooks, aggregated API servers) kept for the
/// next request: at most 8 per destination, each for at most 30 s, at most 256 destinations.
final class IdleConnections: Sendable {
    struct Idle: Sendable {
        let stream: ByteStream
        let reader: BackendResponse
        var since = ContinuousClock.now
    }

    static let perDestination = 8
    static let destinations = 256
    static let idleTime = Duration.seconds(30)
    private let idle = Mutex<[String: [Idle]]>([:])

    /// A connection kept for `key` that is not too old (older ones are closed).
    func take(_ key: String) -> Idle? {
        let (found, stale) = idle.withLock { idle -> (Idle?, [Idle]) in
            var list = idle[key] ?? []
            let now = ContinuousClock.now
            let stale = list.filter { now - $0.since > Self.idleTime }
            list.removeAll { now - $0.since > Self.idleTime }
            let found = list.popLast()
            idle[key] = list.isEmpty ? nil : list
            return (found, stale)
        }
        for connection in stale { connection.stream.close() }
        return found
    }

    /// Keeps a connection whose answer has been read; false when there is no room (the
    /// caller closes it).
    func put(_ key: String, _ connection: Idle) -> Bool {
        var kept = connection
        kept.since = ContinuousClock.now
        return idle.withLock { idle in
            guard idle[key] != nil || idle.count < Self.destinations else { return false }
            guard (idle[key]?.count ?? 0) < Self.perDestination else { return false }
            idle[key, default: []].append(kept)
            return true
        }
    }
}
