import Synchronization

/// kube-apiserver's admission webhook metrics: call latency and count by webhook, type
/// (`admit` or `validating`), operation and outcome; rejections by error type; calls that
/// failed open. Rendered into `/metrics` with the API's own.
public final class WebhookMetrics: Sendable {
    private struct CallKey: Hashable {
        var name: String
        var type: String
        var operation: String
        var rejected: Bool
        var code: Int
    }

    private struct State {
        var calls: [CallKey: APIMetrics.Histogram] = [:]
        var rejections: [[String]: Int] = [:]
        var failedOpen: [[String]: Int] = [:]
    }

    /// At most this many label sets per metric (webhook names come from stored objects).
    static let seriesLimit = 10_000
    private let state = Mutex(State())

    public init() {}

    func observe(_ name: String, _ kind: WebhookDispatcher.Kind, operation: String, rejected: Bool, code: Int, seconds: Double) {
        let key = CallKey(name: name, type: kind.rawValue, operation: operation, rejected: rejected, code: code)
        state.withLock { state in
            guard state.calls[key] != nil || state.calls.count < Self.seriesLimit else { return }
            state.calls[key, default: APIMetrics.Histogram()].observe(seconds)
        }
    }

    func rejected(_ name: String, _ kind: WebhookDispatcher.Kind, operation: String, errorType: String, code: Int) {
        let key = [name, kind.rawValue, operation, errorType, String(code)]
        state.withLock { state in
            guard state.rejections[key] != nil || state.rejections.count < Self.seriesLimit else { return }
            state.rejections[key, default: 0] += 1
        }
    }

    func failedOpen(_ name: String, _ kind: WebhookDispatcher.Kind) {
        let key = [name, kind.rawValue]
        state.withLock { state in
            guard state.failedOpen[key] != nil || state.failedOpen.count < Self.seriesLimit else { return }
            state.failedOpen[key, default: 0] += 1
        }
    }

    /// The exposition text.
    func render() -> String {
        let state = state.withLock { $0 }
        func quoted(_ value: String) -> String {
            value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
        }
        var out = "# HELP apiserver_admission_webhook_request_total Admission webhook calls, by name, type, operation, code and whether the request was rejected.\n# TYPE apiserver_admission_webhook_request_total counter\n"
        let calls = state.calls.sorted { ($0.key.name, $0.key.type, $0.key.operation, $0.key.code) < ($1.key.name, $1.key.type, $1.key.operation, $1.key.code) }
        for (key, histogram) in calls {
            out += "apiserver_admission_webhook_request_total{name=\"\(quoted(key.name))\",type=\"\(key.type)\",operation=\"\(key.operation)\",code=\"\(key.code)\",rejected=\"\(key.rejected)\"} \(histogram.count)\n"
        }
        out += "# HELP apiserver_admission_webhook_admission_duration_seconds Admission webhook call latency, by name, type, operation and whether the request was rejected.\n# TYPE apiserver_admission_webhook_admission_duration_seconds histogram\n"
        var merged: [String: APIMetrics.Histogram] = [:]
        for (key, histogram) in calls {
            let labels = "name=\"\(quoted(key.name))\",type=\"\(key.type)\",operation=\"\(key.operation)\",rejected=\"\(key.rejected)\""
            merged[labels, default: APIMetrics.Histogram()].add(histogram)
        }
        for labels in merged.keys.sorted() {
            APIMetrics.write(histogram: merged[labels]!, metric: "apiserver_admission_webhook_admission_duration_seconds", labels: labels, into: &out)
        }
        out += "# HELP apiserver_admission_webhook_rejection_count Admission webhook rejections, by name, type, operation, error type and code.\n# TYPE apiserver_admission_webhook_rejection_count counter\n"
        for (key, count) in state.rejections.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) where key.count == 5 {
            out += "apiserver_admission_webhook_rejection_count{name=\"\(quoted(key[0]))\",type=\"\(key[1])\",operation=\"\(key[2])\",error_type=\"\(key[3])\",rejection_code=\"\(key[4])\"} \(count)\n"
        }
        out += "# HELP apiserver_admission_webhook_fail_open_count Admission webhook calls that failed and were ignored, by name and type.\n# TYPE apiserver_admission_webhook_fail_open_count counter\n"
        for (key, count) in state.failedOpen.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) where key.count == 2 {
            out += "apiserver_admission_webhook_fail_open_count{name=\"\(quoted(key[0]))\",type=\"\(key[1])\"} \(count)\n"
        }
        return out
    }
}
