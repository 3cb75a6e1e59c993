#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization
import Testing
@testable import Storage

/// A dqlite client's request ends, with an error, however the connection under it ends: a
/// node that closed the connection before the request was sent, or one that never answers.
@Suite(.timeLimit(.minutes(5))) struct DqliteClientTests {
    @Test func aRequestOnAConnectionTheNodeAlreadyClosedFails() async throws {
        let listener = try LoopbackListener(keepConnections: false)
        defer { listener.stop() }
        let client = try await DqliteClient.connect(to: "127.0.0.1:\(listener.port)", tls: nil, timeout: .seconds(30))
        defer { client.close() }
        for _ in 0..<500 where client.isActive { try await Task.sleep(for: .milliseconds(10)) }
        try #require(!client.isActive, "the listener did not close the connection")

        // Generous: a loaded machine running the suite in parallel can leave a task waiting
        // for a thread for many seconds; the failure this catches is a wait with no end.
        let outcome = try await Self.outcome(within: .seconds(60)) { _ = try await client.leader() }
        guard case .failure(let error)? = outcome else {
            Issue.record("a request on a closed connection did not fail within 60 s (it waits forever): \(String(describing: outcome))")
            return
        }
        #expect(error is DqliteError, "\(error)")
    }

    @Test func aNodeThatNeverAnswersTimesOut() async throws {
        let listener = try LoopbackListener(keepConnections: true)
        defer { listener.stop() }
        let client = try await DqliteClient.connect(to: "127.0.0.1:\(listener.port)", tls: nil, timeout: .seconds(1))
        defer { client.close() }
        let outcome = try await Self.outcome(within: .seconds(60)) { _ = try await client.leader() }
        guard case .failure(let error)? = outcome else {
            Issue.record("no timeout within 60 s: \(String(describing: outcome))")
            return
        }
        #expect(error as? DqliteError == .timeout(seconds: 1), "\(error)")
    }

    /// Runs `body` in a task of its own and returns how it ended, or `nil` if it has not
    /// ended within `limit` (the task is then left behind, so that a hang is reported
    /// instead of hanging the test).
    private static func outcome(within limit: Duration, _ body: @escaping @Sendable () async throws -> Void) async throws -> Result<Void, any Error>? {
        let result = Mutex<Result<Void, any Error>?>(nil)
        Task {
            do {
                try await body()
                result.withLock { $0 = .success(()) }
            } catch {
                result.withLock { $0 = .failure(error) }
            }
        }
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline, result.withLock({ $0 == nil }) {
            try await Task.sleep(for: .milliseconds(10))
        }
        return result.withLock { $0 }
    }
}

/// A TCP listener on 127.0.0.1 that accepts on a thread of its own and either closes each
/// connection at once or keeps it open without ever answering.
private final class LoopbackListener: @unchecked Sendable {
    let port: Int
    private let fd: Int32
    private final class Kept: Sendable { let fds = Mutex<[Int32]>([]) }
    private let kept = Kept()
    private let thread: Thread

    init(keepConnections: Bool) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.fd = fd
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound, listen(fd, 16) == 0 else { throw POSIXError(.EADDRNOTAVAIL) }
        port = Int(UInt16(bigEndian: address.sin_port))
        let kept = self.kept
        thread = Thread {
            while true {
                let connection = accept(fd, nil, nil)
                if connection < 0 { return }
                if keepConnections { kept.fds.withLock { $0.append(connection) } } else { close(connection) }
            }
        }
        thread.start()
    }

    func stop() {
        shutdown(fd, Int32(SHUT_RDWR))
        close(fd)
        for connection in kept.fds.withLock({ $0 }) { close(connection) }
    }
}
