import Synchronization

/// The encoded watch events of recent changes, shared by every watch that writes the same
/// change in the same form (kube-apiserver's cacher keeps one serialization per object and
/// encoding in the same way). A hundred protobuf watchers of a resource then parse and
/// encode each change once, not a hundred times. Bounded: the oldest of ``capacity``
/// entries go first; watchers are called with a change at nearly the same moment, so only
/// recent ones matter.
final class WatchEventCache: Sendable {
    /// What makes two watchers' lines for a change the same bytes.
    struct Key: Hashable, Sendable {
        var revision: Int64
        var storeKey: String
        var type: String
        /// The resource's group, version and plural, the encoding and the target form.
        var form: String
    }

    private struct State {
        var lines: [Key: [UInt8]] = [:]
        /// Keys in the order they were added, oldest first from `head`.
        var order: [Key] = []
        var head = 0
    }

    let capacity: Int
    private let state = Mutex(State())

    init(capacity: Int = 4096) {
        self.capacity = max(1, capacity)
    }

    /// The line for `key`, made by `make` if no watcher made it yet.
    func line(_ key: Key, make: () throws -> [UInt8]) rethrows -> [UInt8] {
        if let known = state.withLock({ $0.lines[key] }) { return known }
        let line = try make()
        state.withLock { state in
            guard state.lines.updateValue(line, forKey: key) == nil else { return }
            if state.order.count < capacity {
                state.order.append(key)
            } else {
                state.lines[state.order[state.head]] = nil
                state.order[state.head] = key
                state.head = (state.head + 1) % capacity
            }
        }
        return line
    }

    /// How many lines are held.
    var count: Int { state.withLock { $0.lines.count } }
}
