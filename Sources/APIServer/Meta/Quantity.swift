import Foundation

/// A Kubernetes resource quantity (`100m`, `1.5`, `512Mi`, `2G`, `1e3`), held exactly.
public struct Quantity: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var value: Decimal
    /// Whether the text used binary suffixes (`Ki`, `Mi`…), so that sums print the same way.
    public var binary: Bool

    static let binarySuffixes: [(String, Decimal)] = [
        ("Ki", 1024), ("Mi", 1_048_576), ("Gi", 1_073_741_824), ("Ti", 1_099_511_627_776),
        ("Pi", 1_125_899_906_842_624), ("Ei", 1_152_921_504_606_846_976),
    ]
    static let decimalSuffixes: [(String, Decimal)] = [
        ("n", Decimal(string: "0.000000001")!), ("u", Decimal(string: "0.000001")!), ("m", Decimal(string: "0.001")!),
        ("k", 1000), ("M", 1_000_000), ("G", 1_000_000_000), ("T", 1_000_000_000_000), ("P", 1_000_000_000_000_000),
        ("E", 1_000_000_000_000_000_000),
    ]

    public init(_ value: Decimal, binary: Bool = false) {
        self.value = value
        self.binary = binary
    }

    /// Parses a quantity; `nil` when the text is not one.
    public init?(_ text: String) {
        let text = text.trimmingCharacters(in: .whitespaces)
        guard !text.isEmpty else { return nil }
        var number = Substring(text), multiplier: Decimal = 1, binary = false
        if let (suffix, factor) = Self.binarySuffixes.first(where: { text.hasSuffix($0.0) }) {
            number = number.dropLast(suffix.count)
            multiplier = factor
            binary = true
        } else if let (suffix, factor) = Self.decimalSuffixes.first(where: { text.hasSuffix($0.0) }) {
            number = number.dropLast(suffix.count)
            multiplier = factor
        } else if let e = text.lastIndex(where: { $0 == "e" || $0 == "E" }), let exponent = Int(text[text.index(after: e)...]) {
            // Decimal holds exponents within ±127: larger ones are not quantities (and abs(Int.min) traps).
            guard (-127...127).contains(exponent) else { return nil }
            number = text[..<e]
            multiplier = pow(10, abs(exponent))
            if exponent < 0 { multiplier = 1 / multiplier }
        }
        // One optional sign, digits and at most one point (Foundation's parser would stop at a second one).
        guard number.wholeMatch(of: /[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)/) != nil,
              let parsed = Decimal(string: String(number), locale: Locale(identifier: "en_US_POSIX")) else { return nil }
        self.init(parsed * multiplier, binary: binary)
    }

    /// Reads a quantity from JSON (a string or a number).
    public init?(json: JSON?) {
        guard let json else { return nil }
        if let text = json.stringValue { self.init(text) } else if let number = json.doubleValue, number.isFinite {
            self.init(Decimal(number))
        } else { return nil }
    }

    public static func < (a: Quantity, b: Quantity) -> Bool { a.value < b.value }
    public static func + (a: Quantity, b: Quantity) -> Quantity { Quantity(a.value + b.value, binary: a.binary || b.binary) }
    public static func - (a: Quantity, b: Quantity) -> Quantity { Quantity(a.value - b.value, binary: a.binary || b.binary) }
    public static let zero = Quantity(0)

    /// Canonical text: whole numbers plainly (with the largest binary suffix that divides them
    /// when the inputs were binary), fractions in milli-units.
    public var description: String {
        var whole = Decimal(), copy = value
        NSDecimalRound(&whole, &copy, 0, .down)
        if whole != value {
            var milli = Decimal(), scaled = value * 1000
            NSDecimalRound(&milli, &scaled, 0, .up)
            return "\(milli)m"
        }
        if binary, value != 0 {
            for (suffix, factor) in Self.binarySuffixes.reversed() {
                var quotient = Decimal(), divided = value / factor
                NSDecimalRound(&quotient, &divided, 0, .down)
                if quotient == divided { return "\(quotient)\(suffix)" }
            }
        }
        return "\(value)"
    }

    public var json: JSON { .string(description) }
}
