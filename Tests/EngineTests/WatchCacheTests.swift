@testable import APIServer
import Foundation
import Logging
import Testing

/// The watch cache in front of the kine store and the in-memory one: what it answers is what
/// the store answers at the same revision, a consistent read sees every answered write, and
/// its watches replay its window and follow.
@Suite(.timeLimit(.minutes(1)))
struct WatchCacheTests {
    static let resource = "/registry/core/configmaps/"

    static func key(_ namespace: String, _ name: String) -> String { resource + namespace + "/" + name }

    static func map(_ name: String, _ data: String) -> JSON {
        .resource("v1", "ConfigMap", name: name, namespace: "default", ["data": ["k": .string(data)]])
    }

    /// A cache over a fresh store, its feed running, until `body` returns.
    static func withCache(_ kind: StoreKind, limits: WatchCacheLimits = WatchCacheLimits(),
                          _ body: (CachingObjectStore, StoreUnderTest) async throws -> Void) async throws {
        let underTest = try await kind.make()
        var logger = Logger(label: "watch-cache-tests")
        logger.logLevel = .warning
        let cache = CachingObjectStore(underTest.store, limits: limits, logger: logger)
        let feeding = Task { await cache.run() }
        do {
            try await body(cache, underTest)
        } catch {
            feeding.cancel()
            await underTest.close()
            throw error
        }
        feeding.cancel()
        await underTest.close()
    }

    /// A small deterministic generator, so a failure can be run again.
    struct Dice {
        var state: UInt64
        mutating func roll(_ sides: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(sides))
        }
    }

    /// Reads every page of `prefix` at `revision` by `limit` from `store`.
    static func pages(_ store: any ObjectStore, prefix: String, revision: Int64, limit: Int) async throws -> [[String]] {
        var out: [[String]] = []
        var start: String? = nil
        var at = revision
        while true {
            let page = try await store.list(prefix: prefix, startKey: start, revision: at, limit: limit, counting: true)
            at = page.revision
            out.append(page.entries.map { "\($0.key)@\($0.modRevision)=\(String(decoding: $0.value, as: UTF8.self).count)" })
            guard page.more, let last = page.entries.last else { break }
            if limit > 0 {
                // What the page says follows is what the rest of the pages hold.
                let rest = try await store.list(prefix: prefix, startKey: last.key + "\u{0}", revision: at, limit: 0, counting: false)
                #expect(page.remaining == Int64(rest.entries.count), "remaining at \(at) from \(last.key)")
            }
            start = last.key + "\u{0}"
        }
        return out
    }

    @Test(arguments: StoreKind.allCases)
    func pagesAtEveryRevisionInTheWindowAreTheStores(kind: StoreKind) async throws {
        try await Self.withCache(kind, limits: WatchCacheLimits(events: 150)) { cache, underTest in
            let store = underTest.store
            for i in 0..<20 { _ = try await store.create(Self.key(i % 2 == 0 ? "a" : "b", "m\(i)"), Self.map("m\(i)", "seed")) }
            #expect(await cache.filled(Self.resource))
            var dice = Dice(state: 21)
            var names = Set((0..<20).map { "m\($0)" })
            var revisions: [Int64] = []
            for step in 0..<200 {
                let namespace = dice.roll(2) == 0 ? "a" : "b"
                let name = "m\(dice.roll(40))"
                let key = Self.key(namespace, name)
                if let current = try await store.get(key) {
                    if dice.roll(3) == 0 {
                        if case .written(let deleted) = try await store.delete(key, expectedRevision: current.modRevision) {
                            revisions.append(deleted.modRevision)
                        }
                    } else if case .written(let written) = try await store.update(key, Self.map(name, String(repeating: "x", count: step)),
                                                                                 expectedRevision: current.modRevision) {
                        revisions.append(written.modRevision)
                    }
                } else if let created = try await store.create(key, Self.map(name, "new \(step)")) {
                    revisions.append(created.modRevision)
                }
                names.insert(name)
                // Another resource's changes move the store's revision past this one's.
                if step % 10 == 0 { _ = try await store.create("/registry/core/secrets/a/s\(step)", Self.map("s", "s")) }
            }
            let now = try await cache.list(prefix: Self.resource, startKey: nil, revision: 0, limit: 0, counting: false)
            #expect(now.revision >= revisions.last ?? 0, "a consistent list sees every answered write")
            let hitsBefore = cache.figures(Self.resource)?.hits ?? 0
            // Every revision the window holds, and some it does not (the store answers those).
            for revision in stride(from: revisions[0], through: now.revision, by: 9) {
                for prefix in [Self.resource, Self.resource + "a/"] {
                    for limit in [0, 1, 6, Int.max] {
                        let cached = try await Self.pages(cache, prefix: prefix, revision: revision, limit: limit)
                        let stored = try await Self.pages(store, prefix: prefix, revision: revision, limit: limit)
                        #expect(cached == stored, "\(prefix) at \(revision) by \(limit)")
                    }
                }
            }
            let figures = try #require(cache.figures(Self.resource))
            #expect(figures.hits > hitsBefore + 100, "the cache answered the pages in its window")
            #expect(figures.misses > 0, "pages older than the window went to the store")
            #expect(figures.events <= 150)
            #expect(figures.objects == now.entries.count)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func consistentReadsSeeEveryAnsweredWrite(kind: StoreKind) async throws {
        try await Self.withCache(kind) { cache, underTest in
            let key = Self.key("a", "counter")
            _ = try await cache.create(key, Self.map("counter", "0"))
            #expect(await cache.filled(key))
            for i in 1...150 {
                let current = try #require(try await cache.get(key))
                guard case .written(let written) = try await cache.update(key, Self.map("counter", "\(i)"), expectedRevision: current.modRevision) else {
                    Issue.record("update \(i) conflicted")
                    return
                }
                let read = try #require(try await cache.get(key))
                #expect(read.modRevision == written.modRevision)
                #expect(read.object[path: ["data", "k"]]?.stringValue == "\(i)")
                // A write elsewhere: the cache must still catch up to it before answering.
                let other = try #require(try await underTest.store.create("/registry/core/secrets/a/s\(i)", Self.map("s", "s")))
                let page = try await cache.list(prefix: Self.resource, startKey: nil, revision: 0, limit: 0, counting: false)
                #expect(page.revision >= other.modRevision)
                #expect(page.entries.first?.modRevision == written.modRevision)
            }
            // A key that is not there: nil from the cache, as from the store.
            #expect(try await cache.get(Self.key("a", "none")) == nil)
            let figures = try #require(cache.figures(key))
            #expect(figures.hits >= 300, "reads were answered from memory: \(figures)")
        }
    }

    /// The next `count` changes of a watch, however they are batched; fails on anything else.
    static func events(_ iterator: inout some AsyncIteratorProtocol<StoreWatchMessage, any Error>, count: Int) async throws -> [StoreEvent] {
        var out: [StoreEvent] = []
        while out.count < count {
            guard case .events(let events)? = try await iterator.next() else {
                Issue.record("\(out.count) of \(count) changes, then something else")
                return out
            }
            out += events
        }
        return out
    }

    @Test(arguments: StoreKind.allCases)
    func watchesReplayTheWindowThenFollow(kind: StoreKind) async throws {
        try await Self.withCache(kind, limits: WatchCacheLimits(events: 10)) { cache, underTest in
            let start = try #require(try await cache.create(Self.key("a", "w"), Self.map("w", "0"))).modRevision
            #expect(await cache.filled(Self.resource))
            var revisions: [Int64] = []
            for i in 1...5 {
                let current = try #require(try await cache.get(Self.key("a", "w")))
                guard case .written(let written) = try await cache.update(Self.key("a", "w"), Self.map("w", "\(i)"), expectedRevision: current.modRevision) else {
                    Issue.record("conflict")
                    return
                }
                revisions.append(written.modRevision)
            }
            _ = try await cache.create(Self.key("b", "other"), Self.map("other", "x"))
            // From the window: the changes after the second update, of namespace a only.
            let last = try await cache.list(prefix: Self.resource, startKey: nil, revision: 0, limit: 0, counting: false).revision
            let watch = try await cache.watch(prefix: Self.resource + "a/", after: revisions[1])
            #expect(watch.id >= CachingObjectStore.firstWatchID, "served by the cache")
            var iterator = watch.stream.makeAsyncIterator()
            let replayed = try await Self.events(&iterator, count: 3)
            #expect(replayed.map(\.revision) == Array(revisions[2...]))
            // Then live changes, and progress markers after them.
            let current = try #require(try await cache.get(Self.key("a", "w")))
            guard case .written(let live) = try await cache.update(Self.key("a", "w"), Self.map("w", "live"), expectedRevision: current.modRevision) else {
                Issue.record("conflict")
                return
            }
            let followed = try await Self.events(&iterator, count: 1)
            #expect(followed.map(\.revision) == [live.modRevision])
            #expect(followed.first?.previous?.modRevision == revisions.last)
            _ = try await underTest.store.create("/registry/core/secrets/a/s", Self.map("s", "s"))
            let secretRevision = try await underTest.store.currentRevision()
            #expect(cache.requestProgress(watch.id))
            guard case .progress(let marker)? = try await iterator.next() else {
                Issue.record("no progress marker")
                return
            }
            #expect(marker >= secretRevision, "the marker follows the store, not only this resource")
            #expect(marker > last)
            cache.cancelWatch(watch.id)
            #expect(try await iterator.next() == nil, "a cancelled watch ends")
            #expect(!cache.requestProgress(watch.id))

            // Older than the window (10 changes): the store serves it, with the same changes.
            for i in 0..<12 { _ = try await cache.create(Self.key("a", "n\(i)"), Self.map("n", "\(i)")) }
            _ = try await cache.list(prefix: Self.resource, startKey: nil, revision: 0, limit: 1, counting: false)
            let old = try await cache.watch(prefix: Self.resource + "a/", after: start)
            #expect(old.id < CachingObjectStore.firstWatchID, "the store serves a watch from before the window")
            var oldIterator = old.stream.makeAsyncIterator()
            guard case .events(let history)? = try await oldIterator.next() else {
                Issue.record("no history")
                return
            }
            #expect(history.first?.revision == revisions.first)
            cache.cancelWatch(old.id)

            // Compacted: refused even though the window still holds the changes.
            let recent = try await cache.currentRevision()
            try await underTest.compact(recent)
            await #expect(throws: ObjectStoreError.self) { _ = try await cache.watch(prefix: Self.resource, after: recent - 3) }
        }
    }

    @Test(arguments: StoreKind.allCases)
    func theWindowsOfAllResourcesShareOneLimit(kind: StoreKind) async throws {
        let limits = WatchCacheLimits(events: 1000, windowBytes: 1 << 20, totalWindowBytes: 8000, minimumEvents: 3)
        try await Self.withCache(kind, limits: limits) { cache, _ in
            let secrets = "/registry/core/secrets/"
            _ = try await cache.create(Self.key("a", "m0"), Self.map("m0", "0"))
            let firstSecret = try #require(try await cache.create(secrets + "a/s0", Self.map("s0", "0"))).modRevision
            #expect(await cache.filled(Self.resource))
            #expect(await cache.filled(secrets))
            let filler = String(repeating: "f", count: 200)
            for i in 1...40 { _ = try await cache.create(Self.key("a", "m\(i)"), Self.map("m\(i)", filler)) }
            for i in 1...40 { _ = try await cache.create(secrets + "a/s\(i)", Self.map("s\(i)", filler)) }
            // Consistent reads: both caches have applied every change.
            _ = try await cache.list(prefix: Self.resource, startKey: nil, revision: 0, limit: 1, counting: false)
            _ = try await cache.list(prefix: secrets, startKey: nil, revision: 0, limit: 1, counting: false)
            let maps = try #require(cache.figures(Self.resource)), keys = try #require(cache.figures(secrets))
            #expect(cache.windowBytesHeld == maps.windowBytes + keys.windowBytes, "the budget counts what the windows hold")
            // Each change here is about 400 bytes: over the total, a window keeps only its minimum.
            #expect(cache.windowBytesHeld <= 8000 + 2 * 3 * 500, "held \(cache.windowBytesHeld)")
            #expect(maps.events >= 3 && keys.events >= 3, "each window keeps its minimum")
            #expect(maps.events < 41 && keys.events < 41, "the windows gave back their oldest changes")
            // A watch from before the window gets every change (from the store, or from the
            // changes the cache has not handed on yet).
            let watch = try await cache.watch(prefix: secrets, after: firstSecret)
            var iterator = watch.stream.makeAsyncIterator()
            let history = try await Self.events(&iterator, count: 40)
            #expect(history.first?.key == secrets + "a/s1")
            #expect(history.count == 40)
            cache.cancelWatch(watch.id)
            let metrics = cache.renderMetrics()
            #expect(metrics.contains("skiff_watch_cache_window_limit_bytes 8000"))
        }
    }

    @Test(arguments: StoreKind.allCases)
    func aWatchersFilterKeepsOtherChangesFromWakingIt(kind: StoreKind) async throws {
        try await Self.withCache(kind) { cache, _ in
            let start = try #require(try await cache.create(Self.key("a", "first"), Self.map("first", "0"))).modRevision
            #expect(await cache.filled(Self.resource))
            let wanted = Self.key("a", "m7")
            let filtered = try await cache.watch(prefix: Self.resource, after: start) { $0.key == wanted }
            let all = try await cache.watch(prefix: Self.resource, after: start)
            #expect(filtered.id >= CachingObjectStore.firstWatchID && all.id >= CachingObjectStore.firstWatchID)
            let before = try #require(cache.figures(Self.resource)).handedOut
            for i in 0..<20 { _ = try await cache.create(Self.key("a", "m\(i)"), Self.map("m\(i)", "\(i)")) }
            var allIterator = all.stream.makeAsyncIterator()
            let seenByAll = try await Self.events(&allIterator, count: 20)
            #expect(seenByAll.count == 20)
            var filteredIterator = filtered.stream.makeAsyncIterator()
            let seen = try await Self.events(&filteredIterator, count: 1)
            #expect(seen.map(\.key) == [wanted])
            // Every change went to the unfiltered watcher, one to the filtered one (counted
            // just after they are handed over).
            let deadline = ContinuousClock.now + .seconds(5)
            var handedOut = 0
            while ContinuousClock.now < deadline {
                handedOut = try #require(cache.figures(Self.resource)).handedOut - before
                if handedOut >= 21 { break }
                try await Task.sleep(for: .milliseconds(5))
            }
            #expect(handedOut == 21)
            cache.cancelWatch(filtered.id)
            cache.cancelWatch(all.id)
        }
    }

    @Test func aReadWaitingWhileTheFeedStartsIsAnswered() async throws {
        let memory = MemoryObjectStore()
        let store = InterceptingObjectStore(memory)
        store.delayWatches { try? await Task.sleep(for: .milliseconds(300)) }
        var logger = Logger(label: "watch-cache-tests")
        logger.logLevel = .warning
        let cache = CachingObjectStore(store, logger: logger)
        let feeding = Task { await cache.run() }
        defer { feeding.cancel() }
        let key = Self.key("a", "x")
        _ = try await memory.create(key, Self.map("x", "1"))
        // Filled, its feed still starting: a read needs a revision only another resource's
        // change made, which this cache's feed never brings.
        #expect(await cache.filled(key))
        _ = try await memory.create("/registry/core/secrets/a/s", Self.map("s", "s"))
        let answered = await withTaskGroup(of: Bool.self) { group in
            group.addTask { (try? await cache.get(key))?.modRevision != nil }
            group.addTask {
                try? await Task.sleep(for: .seconds(10))
                return false
            }
            defer { group.cancelAll() }
            return await group.next() ?? false
        }
        #expect(answered, "the read waited past its patience")
    }

    @Test func aListOfResourceVersionZeroComesFromTheCacheAndTheCacheReportsItsSize() async throws {
        let api = try await InProcessAPI()
        for i in 0..<5 {
            #expect(await api.request(.POST, "/api/v1/namespaces/default/configmaps",
                                      .resource("v1", "ConfigMap", name: "c\(i)", namespace: "default")).status == 201)
        }
        let cache = try #require(api.bootstrap.objects as? CachingObjectStore)
        #expect(await cache.filled(Self.resource))
        let before = try #require(cache.figures(Self.resource)).hits
        let list = await api.request(.GET, "/api/v1/namespaces/default/configmaps?resourceVersion=0")
        #expect(list.status == 200)
        #expect(list.body["items"]?.arrayValue?.count ?? 0 >= 5)
        let exact = await api.request(.GET, "/api/v1/namespaces/default/configmaps?resourceVersion=0&resourceVersionMatch=Exact")
        #expect(exact.status == 400, "Exact needs a resourceVersion other than 0")
        #expect(try #require(cache.figures(Self.resource)).hits > before)
        let text = await api.metrics()
        #expect(text.contains("skiff_watch_cache_objects{resource=\"core/configmaps\"}"), "\(text.suffix(2000))")
        #expect(text.contains("skiff_watch_cache_bytes "))
    }
}
