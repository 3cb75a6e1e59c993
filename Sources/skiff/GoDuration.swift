import ArgumentParser

/// A duration written as etcd's flags take them (Go's `time.Duration` syntax): one or more
/// number-and-unit pairs, units `h`, `m`, `s`, `ms`, `us` or `µs`, `ns`, as in `10m`,
/// `1m30s` or `500ms`.
struct GoDuration: ExpressibleByArgument, Sendable {
    let duration: Duration

    init(_ duration: Duration) { self.duration = duration }

    init?(argument: String) {
        let units: [(String, Double)] = [("ms", 1e-3), ("us", 1e-6), ("µs", 1e-6), ("ns", 1e-9), ("h", 3600), ("m", 60), ("s", 1)]
        var rest = Substring(argument)
        var seconds = 0.0
        guard !rest.isEmpty else { return nil }
        while !rest.isEmpty {
            let number = rest.prefix { $0.isNumber || $0 == "." }
            guard let value = Double(number) else { return nil }
            rest = rest.dropFirst(number.count)
            guard let (unit, scale) = units.first(where: { rest.hasPrefix($0.0) }) else { return nil }
            rest = rest.dropFirst(unit.count)
            seconds += value * scale
        }
        duration = .nanoseconds(Int64(seconds * 1e9))
    }

    var defaultValueDescription: String {
        let (whole, fraction) = duration.components
        return fraction == 0 && whole % 60 == 0 ? "\(whole / 60)m" : "\(Double(whole) + Double(fraction) / 1e18)s"
    }
}
