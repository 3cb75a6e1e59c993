import APIServer
import ArgumentParser

/// A duration flag in Go's syntax, as etcd's flags take them (`10m`, `1m30s`, `500ms`).
struct DurationArgument: ExpressibleByArgument, Sendable {
    let duration: Duration

    init(_ duration: Duration) { self.duration = duration }

    init?(argument: String) {
        // Go's time.Duration holds about 292 years; longer is not a duration.
        guard let seconds = GoDuration.seconds(argument), seconds.isFinite, abs(seconds) < 9.2e9 else { return nil }
        duration = .nanoseconds(Int64(seconds * 1e9))
    }

    var defaultValueDescription: String {
        let (whole, fraction) = duration.components
        return fraction == 0 && whole % 60 == 0 ? "\(whole / 60)m" : "\(Double(whole) + Double(fraction) / 1e18)s"
    }
}
