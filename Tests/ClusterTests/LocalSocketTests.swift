#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Testing
@testable import Cluster

/// The proxy's connection to its dqlite node's local socket, made on an event loop.
struct LocalSocketTests {
    /// A node that does not accept fills its backlog; a connect then fails at once with
    /// ``LocalSocket/Busy`` (the proxy tries again later) instead of blocking the event loop
    /// until the node accepts.
    @Test func aFullBacklogFailsAtOnceInsteadOfBlocking() throws {
        let name = "skiff-test-\(UInt64.random(in: 0 ... .max))"
        var (address, length) = try LocalSocket.abstractAddress(name)
        let listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        #expect(listener >= 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, length) }
        }
        #expect(bound == 0)
        #expect(listen(listener, 1) == 0)

        // Connect on another thread, so that a connect that blocks is seen (and released
        // by closing the listener) rather than hanging the test.
        final class Outcome: @unchecked Sendable { var connected: [Int32] = []; var busy = false }
        let outcome = Outcome()
        let done = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            for _ in 0..<64 {
                do {
                    outcome.connected.append(try LocalSocket.connectAbstract(name))
                } catch {
                    outcome.busy = error is LocalSocket.Busy
                    break
                }
            }
            done.signal()
        }
        guard done.wait(timeout: .now() + 10) == .success else {
            close(listener)
            done.wait()
            Issue.record("a connect to a listener with a full backlog blocked")
            return
        }
        defer { for fd in outcome.connected { close(fd) } }
        #expect(!outcome.connected.isEmpty, "the backlog took the first connections")
        #expect(outcome.busy, "\(outcome.connected.count) connections, then no Busy")

        // Once the node accepts, connecting works again.
        let accepted = accept(listener, nil, nil)
        #expect(accepted >= 0)
        close(accepted)
        let again = try LocalSocket.connectAbstract(name)
        close(again)
        close(listener)
    }
}
