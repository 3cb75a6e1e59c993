import KineLayer
import Synchronization
import SystemFigures

/// etcd's plain HTTP endpoints on its client port, beside gRPC: `/metrics` (the Prometheus
/// text format), `/health` and `/version`. What is in memory is answered at once; the two
/// figures that need the datastore (its size, and whether a read goes through) get
/// ``storeDeadline`` and at most ``storeCallers`` requests at a time, so that a scraper
/// cannot pile up queries on a cluster that has lost its leader.
final class EtcdHTTPEndpoints: HTTPResponder {
    let store: KineStore
    /// More Prometheus text to serve (the dqlite node process's figures, for a member).
    let extraMetrics: @Sendable () -> String

    static let storeDeadline: Duration = .seconds(2)
    static let storeCallers = 4
    /// A member that has not heard from the leader for this long says it has none.
    static let leaderWindow: Duration = .seconds(3)

    private let callers = Mutex(0)

    init(store: KineStore, extraMetrics: @escaping @Sendable () -> String) {
        self.store = store
        self.extraMetrics = extraMetrics
    }

    func respond(method: String, path: String) async -> HTTPAnswer {
        let known = ["/metrics", "/health", "/version"].contains(path)
        guard known else { return HTTPAnswer(status: 404, body: "404 page not found\n") }
        guard method == "GET" || method == "HEAD" else { return HTTPAnswer(status: 405, body: "method not allowed: use GET\n") }
        switch path {
        case "/metrics":
            return HTTPAnswer(status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8", body: await metrics())
        case "/version":
            return HTTPAnswer(status: 200, contentType: "application/json",
                              body: #"{"etcdserver":"\#(MaintenanceService.reportedVersion)","etcdcluster":"3.5.0"}"#)
        default:
            return await health()
        }
    }

    /// etcd's answer shape: `{"health":"true","reason":""}`, or 503 with `"false"` and why.
    private func health() async -> HTTPAnswer {
        func answer(_ healthy: Bool, _ reason: String) -> HTTPAnswer {
            HTTPAnswer(status: healthy ? 200 : 503, contentType: "application/json",
                       body: #"{"health":"\#(healthy)","reason":"\#(reason)"}"#)
        }
        guard store.reachedDatabase(within: Self.leaderWindow) else { return answer(false, "RAFT NO LEADER") }
        let store = self.store
        switch await fromStore({ try await store.currentRevision() }) {
        case .answered: return answer(true, "")
        case .busy: return answer(false, "too many health checks at once")
        case .unanswered: return answer(false, "the datastore did not answer a read")
        }
    }

    private func metrics() async -> String {
        var out = ""
        func gauge(_ name: String, _ help: String, _ value: String, labels: String = "") {
            out += "# HELP \(name) \(help)\n# TYPE \(name) gauge\n\(name)\(labels) \(value)\n"
        }
        gauge("etcd_server_has_leader", "1 if this member reached the datastore's leader within the last 3 s, else 0.",
              store.reachedDatabase(within: Self.leaderWindow) ? "1" : "0")
        gauge("etcd_server_version", "Always 1; the label is the etcd version this server reports.", "1",
              labels: #"{server_version="\#(MaintenanceService.reportedVersion)"}"#)
        gauge("etcd_debugging_mvcc_current_revision", "The newest revision this member has delivered to its watchers.",
              String(store.watchRevision))
        gauge("etcd_debugging_mvcc_watcher_total", "Watches open on this member.", String(store.watchCount))
        let database = store.database
        if case .answered(let sizes) = await fromStore({ (try await database.sizeInBytes(), try await database.usedBytes()) }) {
            gauge("etcd_mvcc_db_total_size_in_bytes", "Bytes the datastore takes, free pages included.", String(sizes.0))
            gauge("etcd_mvcc_db_total_size_in_use_in_bytes", "Bytes of the datastore in use (without free pages).", String(sizes.1))
        }
        out += ProcessFigures.current()?.render(prefix: "process", what: "this process") ?? ""
        out += extraMetrics()
        return out
    }

    private enum Outcome<T: Sendable>: Sendable {
        case answered(T)
        /// The call failed or missed its deadline.
        case unanswered
        /// ``storeCallers`` calls were already running.
        case busy
    }

    /// Runs a datastore call with the deadline and the cap on concurrent callers. A call
    /// past its deadline is cancelled and left to end on its own (it counts against the cap
    /// until it does); the answer does not wait for it.
    private func fromStore<T: Sendable>(_ call: @escaping @Sendable () async throws -> T) async -> Outcome<T> {
        let admitted = callers.withLock { n in
            guard n < Self.storeCallers else { return false }
            n += 1
            return true
        }
        guard admitted else { return .busy }
        let pending = ResumeOnce<Outcome<T>>()
        return await withCheckedContinuation { continuation in
            pending.continuation.withLock { $0 = continuation }
            // The call ends the timer (no task left sleeping per answered scrape); the
            // timer answers for a call past its deadline and cancels it.
            let timer = Task {
                try await Task.sleep(for: Self.storeDeadline)
                pending.continuation.withLock { $0.take() }?.resume(returning: .unanswered)
                pending.call.withLock { $0 }?.cancel()
            }
            let work = Task {
                let outcome: Outcome<T> = (try? await call()).map { .answered($0) } ?? .unanswered
                timer.cancel()
                self.callers.withLock { $0 -= 1 }
                pending.continuation.withLock { $0.take() }?.resume(returning: outcome)
            }
            pending.call.withLock { $0 = work }
        }
    }
}

/// A continuation that whichever of the call and its timer ends first resumes, and the call,
/// for the timer to cancel.
private final class ResumeOnce<T: Sendable>: Sendable {
    let continuation = Mutex<CheckedContinuation<T, Never>?>(nil)
    let call = Mutex<Task<Void, Never>?>(nil)
}
