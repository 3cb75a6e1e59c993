import NIOCore

/// How much history a ``WatchCache`` keeps for one resource.
public struct WatchCacheLimits: Sendable {
    /// The most changes kept in the window.
    public var events: Int
    /// The most bytes (keys, values and previous values) the window's changes may hold.
    public var windowBytes: Int
    /// The most bytes the windows of every resource may hold together; a window over it
    /// gives back its oldest changes down to ``minimumEvents``.
    public var totalWindowBytes: Int
    /// The changes a window keeps whatever the total (kube-apiserver's smallest cache
    /// holds 100): a resource's recent watches resume from it.
    public var minimumEvents: Int

    public init(events: Int = 4096, windowBytes: Int = 16 << 20, totalWindowBytes: Int = 256 << 20, minimumEvents: Int = 100) {
        self.events = max(1, events)
        self.windowBytes = max(0, windowBytes)
        self.totalWindowBytes = max(0, totalWindowBytes)
        self.minimumEvents = max(0, minimumEvents)
    }
}

/// One resource's objects at one revision, and a window of the changes that led there: what
/// a ``WatchCache`` answers from. Keys sort as the store sorts them, by their UTF-8 bytes.
/// A page at an older revision inside the window is the current objects with the window's
/// later changes undone, so a paged list needs no copy of the objects per revision.
struct CachedObjects: Sendable {
    /// The objects, in key order.
    private(set) var entries: [StoredEntry]
    /// Every change after ``oldest`` up to ``revision``, in revision order.
    private(set) var window = CircularBuffer<StoreEvent>()
    /// The revision the entries are at.
    private(set) var revision: Int64
    /// The window holds every change after this revision.
    private(set) var oldest: Int64
    /// The bytes of the objects' keys and values.
    private(set) var objectBytes = 0
    /// The bytes the window's changes hold.
    private(set) var windowBytes = 0
    let limits: WatchCacheLimits
    /// The windows' bytes of every resource together.
    let budget: WindowBudget

    /// The objects read at `revision`, sorted by ``precedes(_:_:)``.
    init(sorted entries: [StoredEntry], revision: Int64, limits: WatchCacheLimits, budget: WindowBudget) {
        self.entries = entries
        self.revision = revision
        oldest = revision
        self.limits = limits
        self.budget = budget
        objectBytes = self.entries.reduce(0) { $0 + Self.size(of: $1) }
    }

    /// Gives the window's bytes back to the budget: call before these objects are dropped.
    mutating func release() {
        budget.add(-windowBytes)
        window.removeAll()
        windowBytes = 0
        oldest = revision
    }

    // MARK: Keys

    /// The store's key order: by UTF-8 bytes.
    static func precedes(_ a: String, _ b: String) -> Bool {
        a.utf8.lexicographicallyPrecedes(b.utf8)
    }

    static func isUnder(_ key: String, _ prefix: String) -> Bool {
        key.utf8.starts(with: prefix.utf8)
    }

    static func size(of entry: StoredEntry) -> Int { entry.key.utf8.count + entry.value.count + 48 }

    static func size(of event: StoreEvent) -> Int {
        event.key.utf8.count + event.value.count + (event.previous.map(size(of:)) ?? 0) + 64
    }

    /// The first index whose key is not before `key`.
    private func lowerBound(_ key: String) -> Int {
        var low = 0, high = entries.count
        while low < high {
            let mid = low + (high - low) / 2
            if Self.precedes(entries[mid].key, key) { low = mid + 1 } else { high = mid }
        }
        return low
    }

    /// The first index past every key under `prefix`.
    private func end(of prefix: String) -> Int {
        var low = 0, high = entries.count
        while low < high {
            let mid = low + (high - low) / 2
            let key = entries[mid].key
            if Self.precedes(key, prefix) || Self.isUnder(key, prefix) { low = mid + 1 } else { high = mid }
        }
        return low
    }

    // MARK: Changes

    var count: Int { entries.count }

    /// Applies changes that follow ``revision``, in revision order, and keeps them in the
    /// window (forgetting the oldest beyond the limits).
    mutating func apply(_ events: [StoreEvent]) {
        for event in events {
            let index = lowerBound(event.key)
            let found = index < entries.count && entries[index].key == event.key
            switch event.kind {
            case .put:
                let entry = event.entry
                if found {
                    objectBytes += Self.size(of: entry) - Self.size(of: entries[index])
                    entries[index] = entry
                } else {
                    objectBytes += Self.size(of: entry)
                    entries.insert(entry, at: index)
                }
            case .delete:
                if found {
                    objectBytes -= Self.size(of: entries[index])
                    entries.remove(at: index)
                }
            }
            revision = max(revision, event.revision)
            window.append(event)
            let size = Self.size(of: event)
            windowBytes += size
            budget.add(size)
        }
        while let first = window.first,
              window.count > limits.events || windowBytes > limits.windowBytes || (window.count > limits.minimumEvents && budget.isOver) {
            window.removeFirst()
            let size = Self.size(of: first)
            windowBytes -= size
            budget.add(-size)
            oldest = max(oldest, first.revision)
        }
    }

    /// Every change up to `revision` is in: nothing under the prefix changed since the last.
    mutating func advance(to revision: Int64) {
        self.revision = max(self.revision, revision)
    }

    // MARK: Reads

    /// The object under `key` now.
    func get(_ key: String) -> StoredEntry? {
        let index = lowerBound(key)
        return index < entries.count && entries[index].key == key ? entries[index] : nil
    }

    /// The changes under `prefix` after `revision`, oldest first; `nil` when the window no
    /// longer holds all of them.
    func changes(after revision: Int64, under prefix: String) -> [StoreEvent]? {
        guard revision >= oldest else { return nil }
        guard revision < self.revision else { return [] }
        return window.filter { $0.revision > revision && Self.isUnder($0.key, prefix) }
    }

    /// One page of at most `limit` (0: all) objects under `prefix` from `startKey`, as they
    /// were at `revision` (0: now); `nil` when the window does not reach back to it.
    func page(prefix: String, startKey: String?, revision: Int64, limit: Int, counting: Bool) -> ListPage? {
        let at = revision > 0 ? revision : self.revision
        guard at >= oldest, at <= self.revision else { return nil }
        let start = startKey.map { Self.precedes($0, prefix) ? prefix : $0 } ?? prefix
        let first = lowerBound(start)
        let last = end(of: prefix)
        if at == self.revision {
            // (`limit` comes from the request: no `first + limit`, which can overflow.)
            let stop = limit > 0 && limit < last - first ? first + limit : last
            let page = first < stop ? Array(entries[first..<stop]) : []
            let left = max(0, last - max(first, stop))
            return ListPage(revision: at, entries: page, more: left > 0, remaining: counting && limit > 0 ? Int64(left) : nil)
        }
        // The keys the window changed after `at`, and what each held then (nil: absent).
        var then: [String: StoredEntry?] = [:]
        for event in window where event.revision > at {
            guard Self.isUnder(event.key, prefix), !Self.precedes(event.key, start), then[event.key] == nil else { continue }
            if event.kind == .put, event.isCreate {
                then[event.key] = .some(nil)
            } else if let previous = event.previous {
                then[event.key] = .some(previous)
            } else {
                return nil
            }
        }
        let restored = then.compactMap { $0.value }.sorted { Self.precedes($0.key, $1.key) }
        var out: [StoredEntry] = []
        var i = first, j = 0
        var left: Int64 = 0
        var more = false
        while true {
            while i < last, then[entries[i].key] != nil { i += 1 }
            let next: StoredEntry
            if i < last, j < restored.count {
                if Self.precedes(entries[i].key, restored[j].key) {
                    next = entries[i]; i += 1
                } else {
                    next = restored[j]; j += 1
                }
            } else if i < last {
                next = entries[i]; i += 1
            } else if j < restored.count {
                next = restored[j]; j += 1
            } else {
                break
            }
            if limit > 0 && out.count == limit {
                more = true
                left += 1
                if !counting { break }
            } else {
                out.append(next)
            }
        }
        return ListPage(revision: at, entries: out, more: more, remaining: counting && limit > 0 ? left : nil)
    }
}
