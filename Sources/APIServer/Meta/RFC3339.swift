import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// RFC 3339 timestamps in UTC with second precision, as object metadata carries them;
/// formatted and parsed by hand (a date formatter per call costs more than a whole create).
public enum RFC3339 {
    public static func string(_ date: Date) -> String {
        // Years 1 to 9999 (Go's RFC 3339 range); anything else is clamped rather than trapping in time_t(_:).
        let clamped = min(max(date.timeIntervalSince1970.rounded(.down), -62_135_596_800), 253_402_300_799)
        var seconds = time_t(clamped.isNaN ? 0 : clamped)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(year(Int(parts.tm_year) + 1900))-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))Z"
    }

    /// A year as Go writes it in RFC 3339: four digits, zero-padded (`0001`).
    static func year(_ year: Int) -> String {
        guard year >= 0, year < 1000 else { return String(year) }
        let digits = String(year)
        return String(repeating: "0", count: 4 - digits.count) + digits
    }

    /// Whole seconds since the epoch, with microseconds (`MicroTime`) or without (`Time`).
    public static func string(seconds: Int64, nanoseconds: Int64, micro: Bool) -> String {
        let text = string(Date(timeIntervalSince1970: Double(seconds)))
        guard micro else { return text }
        let digits = String(max(0, min(999_999, nanoseconds / 1000)))
        return String(text.dropLast()) + "." + String(repeating: "0", count: 6 - digits.count) + digits + "Z"
    }

    /// Whole seconds since the epoch and the fraction's nanoseconds of a timestamp.
    public static func parts(_ text: String) -> (seconds: Int64, nanoseconds: Int64)? {
        guard let date = parse(text) else { return nil }
        let seconds = date.timeIntervalSince1970.rounded(.down)
        guard seconds.magnitude < 1e15 else { return nil }
        var nanoseconds: Int64 = 0
        if let dot = text.firstIndex(of: ".") {
            var scale: Int64 = 100_000_000
            for c in text[text.index(after: dot)...] {
                guard let digit = c.wholeNumberValue else { break }
                nanoseconds += Int64(digit) * scale
                scale /= 10
            }
        }
        return (Int64(seconds), nanoseconds)
    }

    /// With microseconds, as `MicroTime` fields carry them (`2023-11-14T22:13:20.250000Z`).
    public static func microString(_ date: Date) -> String {
        let seconds = date.timeIntervalSince1970.rounded(.down)
        let micros = Int(((date.timeIntervalSince1970 - seconds) * 1_000_000).rounded(.down))
        let digits = String(micros)
        return String(string(date).dropLast()) + "." + String(repeating: "0", count: 6 - digits.count) + digits + "Z"
    }

    /// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`.
    public static func parse(_ text: String) -> Date? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 20, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
              bytes[10] == UInt8(ascii: "T") || bytes[10] == UInt8(ascii: "t"),
              bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":") else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for i in range {
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[i]) else { return nil }
                value = value * 10 + Int(bytes[i] - UInt8(ascii: "0"))
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
              let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19) else { return nil }
        var index = 19
        var fraction = 0.0
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            var scale = 0.1
            while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) {
                fraction += Double(bytes[index] - UInt8(ascii: "0")) * scale
                scale /= 10
                index += 1
            }
        }
        var offset = 0
        guard index < bytes.count else { return nil }
        if bytes[index] == UInt8(ascii: "Z") || bytes[index] == UInt8(ascii: "z") {
            index += 1
        } else if bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-"), index + 6 <= bytes.count,
                  let h = number(index + 1..<index + 3), let m = number(index + 4..<index + 6) {
            offset = (h * 3600 + m * 60) * (bytes[index] == UInt8(ascii: "-") ? -1 : 1)
            index += 6
        } else {
            return nil
        }
        guard index == bytes.count else { return nil }
        var parts = tm()
        parts.tm_year = Int32(year - 1900)
        parts.tm_mon = Int32(month - 1)
        parts.tm_mday = Int32(day)
        parts.tm_hour = Int32(hour)
        parts.tm_min = Int32(minute)
        parts.tm_sec = Int32(second)
        let epoch = timegm(&parts)
        return Date(timeIntervalSince1970: Double(epoch - offset) + fraction)
    }
}
