import Foundation
import Synchronization

/// The compiled `pattern`s of schemas, kept so that a custom resource's writes do not compile
/// them again each time. A pattern that does not compile is refused where a definition is
/// written, and makes objects fail validation (not pass unchecked) if one is stored already.
enum SchemaPatterns {
    /// At most this many patterns are kept; past it the cache starts again.
    static let capacity = 1_024

    private static let compiled = Mutex<[String: Compiled]>([:])

    private struct Compiled: @unchecked Sendable {
        /// `nil`: the pattern does not compile. (NSRegularExpression is immutable and safe to
        /// share between threads.)
        let regex: NSRegularExpression?
    }

    /// The compiled pattern; `nil` if it is not a valid regular expression.
    static func regex(_ pattern: String) -> NSRegularExpression? {
        if let hit = compiled.withLock({ $0[pattern] }) { return hit.regex }
        let regex = try? NSRegularExpression(pattern: pattern)
        compiled.withLock { cache in
            if cache.count >= capacity { cache.removeAll(keepingCapacity: true) }
            cache[pattern] = Compiled(regex: regex)
        }
        return regex
    }
}
