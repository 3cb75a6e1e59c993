/// Durations written in Go's `time.Duration` syntax, as Kubernetes (CEL's `duration()`,
/// the `duration` string format) and etcd's flags take them: an optional sign, then one or
/// more number-and-unit pairs, units `h`, `m`, `s`, `ms`, `us` or `µs`, `ns` (`1h30m`,
/// `10s`, `250ms`, `1.5h`).
public enum GoDuration {
    /// The duration in seconds, or `nil` if `text` is not one.
    public static func seconds(_ text: String) -> Double? {
        var rest = Substring(text), total = 0.0, negative = false
        if rest.hasPrefix("-") { negative = true; rest = rest.dropFirst() }
        let units: [(String, Double)] = [("ns", 1e-9), ("us", 1e-6), ("µs", 1e-6), ("ms", 1e-3), ("h", 3600), ("m", 60), ("s", 1)]
        guard !rest.isEmpty else { return nil }
        while !rest.isEmpty {
            let digits = rest.prefix { $0.isNumber || $0 == "." }
            guard let value = Double(digits) else { return nil }
            rest = rest.dropFirst(digits.count)
            guard let (unit, factor) = units.first(where: { rest.hasPrefix($0.0) }) else { return nil }
            rest = rest.dropFirst(unit.count)
            total += value * factor
        }
        // Go's time.Duration is an int64 of nanoseconds: about ±292 years; more is an error there.
        guard total.isFinite, total < 9_223_372_036.854775807 else { return nil }
        return negative ? -total : total
    }
}
