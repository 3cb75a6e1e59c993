import Synchronization
import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// Waits for SIGINT or SIGTERM, the signals that ask a server to stop gracefully.
enum ShutdownSignal {
    /// Returns when one of the signals arrives, or when the waiting task is cancelled.
    static func wait() async {
        let once = Once()
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                once.set(continuation)
                for number in [SIGINT, SIGTERM] {
                    signal(number, SIG_IGN)
                    let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
                    source.setEventHandler { once.fire() }
                    source.resume()
                    sources.append(source)
                }
            }
        } onCancel: {
            once.fire()
        }
    }

    /// Keeps the signal sources alive for the life of the process.
    nonisolated(unsafe) private static var sources: [any DispatchSourceSignal] = []

    /// Resumes the waiter once, whether the signal or the cancellation comes first.
    private final class Once: Sendable {
        private let state = Mutex<(continuation: CheckedContinuation<Void, Never>?, fired: Bool)>((nil, false))

        func set(_ continuation: CheckedContinuation<Void, Never>) {
            let fired = state.withLock { s in
                if !s.fired { s.continuation = continuation }
                return s.fired
            }
            if fired { continuation.resume() }
        }

        func fire() {
            let continuation = state.withLock { s in
                defer { s.continuation = nil; s.fired = true }
                return s.continuation
            }
            continuation?.resume()
        }
    }
}
