import APIServer
import ArgumentParser

/// A duration flag in Go's syntax, as etcd's flags take them (`10m`, `1m30s`, `500ms`).
struct DurationArgument: ExpressibleByArgument, Sendable {
    let duration: Duration

    init(_ duration: Duration) { self.duration = duration }

    init?(argument: String) {
        // GoDuration refuses what Go's int64 nanoseconds cannot hold; at the very edge the
        // product can still round past Int64.max, which `exactly:` refuses instead of trapping.
        guard let seconds = GoDuration.seconds(argument), let nanoseconds = Int64(exactly: (seconds * 1e9).rounded()) else { return nil }
        duration = .nanoseconds(nanoseconds)
    }

    var defaultValueDescription: String {
        let (whole, fraction) = duration.components
        return fraction == 0 && whole % 60 == 0 ? "\(whole / 60)m" : "\(Double(whole) + Double(fraction) / 1e18)s"
    }
}
