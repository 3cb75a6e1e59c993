import Synchronization

/// Request counts and latencies by verb, resource and code, and open watches, in the
/// Prometheus text format served at `/metrics`.
public final class APIMetrics: Sendable {
    struct Key: Hashable {
        var verb: String
        var resource: String
        var code: Int
    }

    struct Histogram {
        var buckets: [Int]
        var sum: Double = 0
        var count: Int = 0
    }

    static let bounds: [Double] = [0.005, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]

    private let requests = Mutex<[Key: Histogram]>([:])
    private let openWatches = Atomic<Int>(0)

    public init() {}

    /// Records one finished request.
    public func record(verb: String, resource: String, code: Int, seconds: Double) {
        requests.withLock { table in
            var h = table[Key(verb: verb, resource: resource, code: code)] ?? Histogram(buckets: Array(repeating: 0, count: Self.bounds.count))
            for (i, bound) in Self.bounds.enumerated() where seconds <= bound { h.buckets[i] += 1 }
            h.sum += seconds
            h.count += 1
            table[Key(verb: verb, resource: resource, code: code)] = h
        }
    }

    public func watchStarted() { openWatches.add(1, ordering: .relaxed) }
    public func watchEnded() { openWatches.subtract(1, ordering: .relaxed) }

    /// The exposition text.
    public func render() -> String {
        var out = "# HELP apiserver_request_total Requests answered, by verb, resource and HTTP code.\n# TYPE apiserver_request_total counter\n"
        let table = requests.withLock { $0 }
        let keys = table.keys.sorted { ($0.resource, $0.verb, $0.code) < ($1.resource, $1.verb, $1.code) }
        for key in keys {
            out += "apiserver_request_total{verb=\"\(key.verb)\",resource=\"\(key.resource)\",code=\"\(key.code)\"} \(table[key]!.count)\n"
        }
        out += "# HELP apiserver_request_duration_seconds Request latency, by verb and resource.\n# TYPE apiserver_request_duration_seconds histogram\n"
        var merged: [String: Histogram] = [:]
        for (key, h) in table {
            let name = "verb=\"\(key.verb)\",resource=\"\(key.resource)\""
            var m = merged[name] ?? Histogram(buckets: Array(repeating: 0, count: Self.bounds.count))
            for i in 0..<h.buckets.count { m.buckets[i] += h.buckets[i] }
            m.sum += h.sum
            m.count += h.count
            merged[name] = m
        }
        for name in merged.keys.sorted() {
            let h = merged[name]!
            for (i, bound) in Self.bounds.enumerated() {
                out += "apiserver_request_duration_seconds_bucket{\(name),le=\"\(bound)\"} \(h.buckets[i])\n"
            }
            out += "apiserver_request_duration_seconds_bucket{\(name),le=\"+Inf\"} \(h.count)\n"
            out += "apiserver_request_duration_seconds_sum{\(name)} \(h.sum)\n"
            out += "apiserver_request_duration_seconds_count{\(name)} \(h.count)\n"
        }
        out += "# HELP apiserver_registered_watchers Open watch streams.\n# TYPE apiserver_registered_watchers gauge\n"
        out += "apiserver_registered_watchers \(openWatches.load(ordering: .relaxed))\n"
        return out
    }
}
