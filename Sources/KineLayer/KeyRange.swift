/// A set of keys: one key, or the keys in `[start, end)` in byte order, as etcd ranges are.
public struct KeyRange: Sendable, Hashable {
    /// Where the range stops.
    public enum End: Sendable, Hashable {
        /// Only `start` itself.
        case single
        /// Every key at or after `start`.
        case unbounded
        /// Keys before this one (exclusive).
        case before([UInt8])
    }

    public var start: [UInt8]
    public var end: End

    public init(start: [UInt8], end: End) {
        self.start = start
        self.end = end
    }

    /// Exactly one key.
    public static func key(_ key: [UInt8]) -> KeyRange { KeyRange(start: key, end: .single) }
    /// Exactly one key, given as text.
    public static func key(_ key: String) -> KeyRange { .key(Array(key.utf8)) }

    /// Every key that starts with `prefix`.
    public static func prefix(_ prefix: [UInt8]) -> KeyRange {
        guard let end = prefixEnd(prefix) else { return KeyRange(start: prefix, end: .unbounded) }
        return KeyRange(start: prefix, end: .before(end))
    }
    /// Every key that starts with `prefix`, given as text.
    public static func prefix(_ prefix: String) -> KeyRange { .prefix(Array(prefix.utf8)) }

    /// Keys in `[start, end)`.
    public static func between(_ start: [UInt8], _ end: [UInt8]) -> KeyRange { KeyRange(start: start, end: .before(end)) }

    /// Every key at or after `start`.
    public static func from(_ start: [UInt8]) -> KeyRange { KeyRange(start: start, end: .unbounded) }

    /// Every key.
    public static var all: KeyRange { KeyRange(start: [], end: .unbounded) }

    /// Builds a range from etcd's `key`/`range_end` pair: empty end = one key, `"\0"` = every
    /// key at or after `key`, anything else = `[key, range_end)`.
    public static func etcd(key: [UInt8], rangeEnd: [UInt8]) -> KeyRange {
        if rangeEnd.isEmpty { return .key(key) }
        if rangeEnd == [0] { return .from(key) }
        return .between(key, rangeEnd)
    }

    /// Whether `key` lies in the range.
    public func contains(_ key: [UInt8]) -> Bool {
        switch end {
        case .single: return key == start
        case .unbounded: return !key.lexicographicallyPrecedes(start)
        case .before(let e): return !key.lexicographicallyPrecedes(start) && key.lexicographicallyPrecedes(e)
        }
    }

    /// The smallest key greater than every key with this prefix, or `nil` if there is none
    /// (the prefix is empty or all 0xFF).
    public static func prefixEnd(_ prefix: [UInt8]) -> [UInt8]? {
        var end = prefix
        while let last = end.last {
            if last < 0xFF {
                end[end.count - 1] = last + 1
                return end
            }
            end.removeLast()
        }
        return nil
    }
}
