import Synchronization

/// What watchers of the same change compute alike, computed once: the encoded watch event
/// of a change in one form, or a change's parsed object (kube-apiserver's cacher keeps one
/// serialization per object and encoding in the same way). A hundred watchers of a resource
/// then parse and encode each change once, not a hundred times. Bounded: the oldest of
/// ``capacity`` values go first, and the oldest also go while the values' cost (their bytes,
/// for encoded lines) is over ``maxCost``; watchers are called with a change at nearly the
/// same moment, so only recent ones matter.
final class RecentValues<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private struct State {
        /// Each value with its cost.
        var values: [Key: (value: Value, cost: Int)] = [:]
        /// Keys in the order they were added, oldest first from `head`.
        var order: [Key] = []
        var head = 0
        var totalCost = 0

        mutating func dropOldest() {
            let oldest = order[head]
            head += 1
            totalCost -= values.removeValue(forKey: oldest)?.cost ?? 0
            if head >= 64 && head * 2 >= order.count {
                order.removeFirst(head)
                head = 0
            }
        }
    }

    let capacity: Int
    /// The most the held values may cost together (one value costing more is not held).
    let maxCost: Int
    private let cost: @Sendable (Value) -> Int
    private let state = Mutex(State())

    /// Holds at most `capacity` values; `cost` measures each against `maxCost` (by default
    /// every value costs nothing, so only the count bounds them).
    init(capacity: Int, maxCost: Int = .max, cost: @escaping @Sendable (Value) -> Int = { _ in 0 }) {
        self.capacity = max(1, capacity)
        self.maxCost = max(0, maxCost)
        self.cost = cost
    }

    /// The value for `key`, made by `make` if no watcher made it yet.
    func value(_ key: Key, make: () throws -> Value) rethrows -> Value {
        if let known = state.withLock({ $0.values[key]?.value }) { return known }
        let value = try make()
        let valueCost = cost(value)
        guard valueCost <= maxCost else { return value }
        state.withLock { state in
            guard state.values[key] == nil else { return }
            state.values[key] = (value, valueCost)
            state.order.append(key)
            state.totalCost += valueCost
            while state.order.count - state.head > capacity || state.totalCost > maxCost { state.dropOldest() }
        }
        return value
    }

    /// How many values are held.
    var count: Int { state.withLock { $0.values.count } }

    /// What the held values cost together.
    var totalCost: Int { state.withLock { $0.totalCost } }
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
