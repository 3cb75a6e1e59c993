import Synchronization

/// What watchers of the same change compute alike, computed once: the encoded watch event
/// of a change in one form, or a change's parsed object (kube-apiserver's cacher keeps one
/// serialization per object and encoding in the same way). A hundred watchers of a resource
/// then parse and encode each change once, not a hundred times. Bounded: the oldest of
/// ``capacity`` values go first; watchers are called with a change at nearly the same
/// moment, so only recent ones matter.
final class RecentValues<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private struct State {
        var values: [Key: Value] = [:]
        /// Keys in the order they were added, oldest first from `head`.
        var order: [Key] = []
        var head = 0
    }

    let capacity: Int
    private let state = Mutex(State())

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// The value for `key`, made by `make` if no watcher made it yet.
    func value(_ key: Key, make: () throws -> Value) rethrows -> Value {
        if let known = state.withLock({ $0.values[key] }) { return known }
        let value = try make()
        state.withLock { state in
            guard state.values.updateValue(value, forKey: key) == nil else { return }
            if state.order.count < capacity {
                state.order.append(key)
            } else {
                state.values[state.order[state.head]] = nil
                state.order[state.head] = key
                state.head = (state.head + 1) % capacity
            }
        }
        return value
    }

    /// How many values are held.
    var count: Int { state.withLock { $0.values.count } }
}

/// What makes two watchers' lines for a change the same bytes.
struct WatchLineKey: Hashable, Sendable {
    var revision: Int64
    var storeKey: String
    var type: String
    /// The resource's group, version and plural, the encoding and the target form.
    var form: String
}

/// A stored object at one revision: its parsed form is the same for every watcher.
struct StoredObjectKey: Hashable, Sendable {
    var storeKey: String
    var revision: Int64
}
