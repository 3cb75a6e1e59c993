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
        var buckets = Array(repeating: 0, count: APIMetrics.bounds.count)
        var sum: Double = 0
        var count: Int = 0

        mutating func observe(_ seconds: Double) {
            for (i, bound) in APIMetrics.bounds.enumerated() where seconds <= bound { buckets[i] += 1 }
            sum += seconds
            count += 1
        }

        mutating func add(_ other: Histogram) {
            for i in 0..<buckets.count { buckets[i] += other.buckets[i] }
            sum += other.sum
            count += other.count
        }
    }

    static let bounds: [Double] = [0.005, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]

    private let requests = Mutex<[Key: Histogram]>([:])
    private let storage = Mutex<[String: Histogram]>([:])
    private let openWatches = Atomic<Int>(0)
    /// The listener's connection counts, rendered with the rest.
    public let connections = ConnectionMetrics()
    /// The admission webhooks' calls, rendered with the rest.
    public let webhooks = WebhookMetrics()
    /// Other parts' figures, rendered after the rest.
    private let reports = Mutex<[@Sendable () -> String]>([])

    public init() {}

    /// Adds a part's figures (Prometheus text) to what ``render()`` writes.
    public func report(_ render: @escaping @Sendable () -> String) {
        reports.withLock { $0.append(render) }
    }

    /// Records one finished request.
    public func record(verb: String, resource: String, code: Int, seconds: Double) {
        requests.withLock { $0[Key(verb: verb, resource: resource, code: code), default: Histogram()].observe(seconds) }
    }

    /// Records one storage operation (get, list, create, update, delete).
    public func recordStorage(operation: String, seconds: Double) {
        storage.withLock { $0[operation, default: Histogram()].observe(seconds) }
    }

    public func watchStarted() { openWatches.add(1, ordering: .relaxed) }
    public func watchEnded() { openWatches.subtract(1, ordering: .relaxed) }

    static func write(histogram h: Histogram, metric: String, labels: String, into out: inout String) {
        for (i, bound) in bounds.enumerated() {
            out += "\(metric)_bucket{\(labels),le=\"\(bound)\"} \(h.buckets[i])\n"
        }
        out += "\(metric)_bucket{\(labels),le=\"+Inf\"} \(h.count)\n"
        out += "\(metric)_sum{\(labels)} \(h.sum)\n"
        out += "\(metric)_count{\(labels)} \(h.count)\n"
    }

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
            merged["verb=\"\(key.verb)\",resource=\"\(key.resource)\"", default: Histogram()].add(h)
        }
        for name in merged.keys.sorted() { Self.write(histogram: merged[name]!, metric: "apiserver_request_duration_seconds", labels: name, into: &out) }
        out += "# HELP skiff_storage_duration_seconds Storage (ObjectStore) operation latency, by operation.\n# TYPE skiff_storage_duration_seconds histogram\n"
        let storageTable = storage.withLock { $0 }
        for operation in storageTable.keys.sorted() {
            Self.write(histogram: storageTable[operation]!, metric: "skiff_storage_duration_seconds",
                       labels: "operation=\"\(operation)\"", into: &out)
        }
        out += "# HELP apiserver_registered_watchers Open watch streams.\n# TYPE apiserver_registered_watchers gauge\n"
        out += "apiserver_registered_watchers \(openWatches.load(ordering: .relaxed))\n"
        out += connections.render()
        out += webhooks.render()
        for report in reports.withLock({ $0 }) { out += report() }
        return out
    }
}

extension Duration {
    /// The duration in seconds, as Prometheus histograms count it.
    var inSeconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
