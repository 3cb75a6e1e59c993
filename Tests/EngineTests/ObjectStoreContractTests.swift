@testable import APIServer
import Foundation
import KineLayer
import Testing
import TestSupport

/// A store under test, with what the protocol does not cover: compaction and closing.
struct StoreUnderTest: Sendable {
    let store: any ObjectStore
    let compact: @Sendable (Int64) async throws -> Void
    let close: @Sendable () async -> Void
}

enum StoreKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case kine
    case memory

    var testDescription: String { rawValue }

    func make() async throws -> StoreUnderTest {
        switch self {
        case .memory:
            let store = MemoryObjectStore()
            return StoreUnderTest(store: store, compact: { store.compact(to: $0) }, close: {})
        case .kine:
            let directory = try TemporaryDirectory()
            let kine = try await KineStore.open(directory: directory.path, synchronous: .normal)
            return StoreUnderTest(store: KineObjectStore(kine: kine), compact: { _ = try await kine.compact(to: $0) },
                                  close: { await kine.close(); directory.remove() })
        }
    }
}

/// The storage seam's contract, run against the kine store (SQLite) and the in-memory one, so
/// that the engine tests' store behaves as the real one does.
@Suite(.timeLimit(.minutes(1)))
struct ObjectStoreContractTests {
    static func map(_ name: String, _ data: String) -> JSON {
        .resource("v1", "ConfigMap", name: name, namespace: "default", ["data": ["k": .string(data)]])
    }

    static func key(_ name: String) -> String { "/registry/configmaps/default/\(name)" }

    @Test(arguments: StoreKind.allCases)
    func writesAreConditionalOnTheModRevision(kind: StoreKind) async throws {
        let subject = try await kind.make()
        defer { Task { await subject.close() } }
        let store = subject.store
        let before = try await store.currentRevision()
        let created = try #require(try await store.create(Self.key("a"), Self.map("a", "1")))
        #expect(created.modRevision == before + 1)
        #expect(created.object[path: ["metadata", "resourceVersion"]]?.stringValue == String(created.modRevision))
        #expect(try await store.create(Self.key("a"), Self.map("a", "2")) == nil, "a second create of the key is refused")

        guard case .written(let updated) = try await store.update(Self.key("a"), Self.map("a", "2"), expectedRevision: created.modRevision) else {
            Issue.record("an update at the current revision is written"); return
        }
        #expect(updated.modRevision == created.modRevision + 1)
        guard case .conflict = try await store.update(Self.key("a"), Self.map("a", "3"), expectedRevision: created.modRevision) else {
            Issue.record("an update at a stale revision conflicts"); return
        }
        guard case .missing = try await store.update(Self.key("nope"), Self.map("nope", "3"), expectedRevision: 1) else {
            Issue.record("an update of a missing key says so"); return
        }
        #expect(try await store.get(Self.key("a"))?.object[path: ["data", "k"]]?.stringValue == "2")
        #expect(try await store.get(Self.key("a"))?.object["metadata"]?["resourceVersion"]?.stringValue == String(updated.modRevision))

        guard case .conflict = try await store.delete(Self.key("a"), expectedRevision: created.modRevision) else {
            Issue.record("a delete at a stale revision conflicts"); return
        }
        guard case .written(let deleted) = try await store.delete(Self.key("a"), expectedRevision: updated.modRevision) else {
            Issue.record("a delete at the current revision is done"); return
        }
        #expect(deleted.modRevision == updated.modRevision + 1, "the deleted object carries the deletion's revision")
        #expect(deleted.object[path: ["data", "k"]]?.stringValue == "2")
        #expect(try await store.get(Self.key("a")) == nil)
        guard case .missing = try await store.delete(Self.key("a"), expectedRevision: deleted.modRevision) else {
            Issue.record("deleting a deleted key says it is missing"); return
        }
        #expect(try await store.currentRevision() == deleted.modRevision)
    }

    @Test(arguments: StoreKind.allCases)
    func aCreateWithOtherWritesIsOneChangeOrNone(kind: StoreKind) async throws {
        let subject = try await kind.make()
        defer { Task { await subject.close() } }
        let store = subject.store
        let quota = try #require(try await store.create(Self.key("quota"), Self.map("quota", "0")))
        let stale = ConditionalWrite(key: Self.key("quota"), object: Self.map("quota", "1"), expectedRevision: quota.modRevision - 1)
        guard case .conflict = try await store.create(Self.key("b"), Self.map("b", "x"), alongside: [stale]) else {
            Issue.record("a stale alongside write fails the create"); return
        }
        #expect(try await store.get(Self.key("b")) == nil, "nothing was written")
        let fresh = ConditionalWrite(key: Self.key("quota"), object: Self.map("quota", "1"), expectedRevision: quota.modRevision)
        guard case .created(let created) = try await store.create(Self.key("b"), Self.map("b", "x"), alongside: [fresh]) else {
            Issue.record("the create with a current alongside write is made"); return
        }
        #expect(created.modRevision == quota.modRevision + 1, "both writes are one revision")
        #expect(try await store.get(Self.key("quota"))?.modRevision == created.modRevision)
        guard case .exists = try await store.create(Self.key("b"), Self.map("b", "y"), alongside: [fresh]) else {
            Issue.record("an existing key wins over a conflict"); return
        }
    }

    @Test(arguments: StoreKind.allCases)
    func readsAtAPastRevisionAndPagesOfAList(kind: StoreKind) async throws {
        let subject = try await kind.make()
        defer { Task { await subject.close() } }
        let store = subject.store
        var revisions: [Int64] = []
        for name in ["e", "a", "d", "b", "c"] {
            revisions.append(try #require(try await store.create(Self.key(name), Self.map(name, "1"))).modRevision)
        }
        let firstA = revisions[1]
        guard case .written = try await store.update(Self.key("a"), Self.map("a", "2"), expectedRevision: firstA) else {
            Issue.record("update a"); return
        }
        #expect(try await store.get(Self.key("a"), revision: firstA)?.object[path: ["data", "k"]]?.stringValue == "1")
        #expect(try await store.get(Self.key("a"))?.object[path: ["data", "k"]]?.stringValue == "2")
        #expect(try await store.get(Self.key("c"), revision: firstA) == nil, "c did not exist yet")

        let page = try await store.list(prefix: "/registry/configmaps/", startKey: nil, revision: 0, limit: 2, counting: true)
        #expect(page.entries.map(\.key) == [Self.key("a"), Self.key("b")])
        #expect(page.more)
        #expect(page.remaining == 3)
        let next = try await store.list(prefix: "/registry/configmaps/", startKey: Self.key("b") + "\u{0}", revision: page.revision, limit: 2, counting: true)
        #expect(next.entries.map(\.key) == [Self.key("c"), Self.key("d")])
        #expect(next.remaining == 1)
        let old = try await store.list(prefix: "/registry/configmaps/", startKey: nil, revision: revisions[2], limit: 0, counting: false)
        #expect(old.entries.map(\.key) == [Self.key("a"), Self.key("d"), Self.key("e")])
        #expect(!old.more)
        var all: [String] = []
        try await store.forEach(prefix: "/registry/configmaps/default/") { all.append($0.key) }
        #expect(all.count == 5)
        await #expect(throws: ObjectStoreError.self) { try await store.get(Self.key("a"), revision: revisions[4] + 100) }
    }

    @Test(arguments: StoreKind.allCases)
    func watchesReplayFromARevisionThenFollow(kind: StoreKind) async throws {
        let subject = try await kind.make()
        defer { Task { await subject.close() } }
        let store = subject.store
        let start = try await store.currentRevision()
        let a = try #require(try await store.create(Self.key("a"), Self.map("a", "1")))
        _ = try await store.create("/registry/secrets/default/s", Self.map("s", "1"))
        let watch = try await store.watch(prefix: "/registry/configmaps/", after: start)
        defer { store.cancelWatch(watch.id) }
        guard case .written(let updated) = try await store.update(Self.key("a"), Self.map("a", "2"), expectedRevision: a.modRevision) else {
            Issue.record("update"); return
        }
        guard case .written = try await store.delete(Self.key("a"), expectedRevision: updated.modRevision) else {
            Issue.record("delete"); return
        }
        #expect(store.requestProgress(watch.id))
        var events: [StoreEvent] = []
        var progress: Int64? = nil
        for try await message in watch.stream {
            switch message {
            case .events(let batch): events.append(contentsOf: batch)
            case .progress(let revision): progress = revision
            }
            if events.count >= 3, progress != nil { break }
        }
        #expect(events.map(\.kind) == [.put, .put, .delete], "the secret is not under the prefix")
        #expect(events.map(\.isCreate) == [true, false, false])
        #expect(events.map(\.revision) == [a.modRevision, updated.modRevision, updated.modRevision + 1])
        #expect(events[1].previous?.modRevision == a.modRevision)
        #expect(events[2].previous.map { String(decoding: $0.value, as: UTF8.self).contains("\"2\"") } == true)
        #expect(progress.map { $0 >= a.modRevision } == true)
    }

    @Test(arguments: StoreKind.allCases)
    func compactedRevisionsAreRefused(kind: StoreKind) async throws {
        let subject = try await kind.make()
        defer { Task { await subject.close() } }
        let store = subject.store
        var current = try #require(try await store.create(Self.key("a"), Self.map("a", "0")))
        let first = current.modRevision
        for i in 1...4 {
            guard case .written(let next) = try await store.update(Self.key("a"), Self.map("a", String(i)), expectedRevision: current.modRevision) else {
                Issue.record("update \(i)"); return
            }
            current = next
        }
        try await subject.compact(current.modRevision - 1)
        #expect(try await store.compactRevision() == current.modRevision - 1)
        do {
            _ = try await store.get(Self.key("a"), revision: first)
            Issue.record("a read below the compacted revision is refused")
        } catch ObjectStoreError.compacted {
        }
        do {
            let watch = try await store.watch(prefix: "/registry/", after: first)
            store.cancelWatch(watch.id)
            Issue.record("a watch from below the compacted revision is refused")
        } catch ObjectStoreError.compacted {
        }
        #expect(try await store.get(Self.key("a"))?.object[path: ["data", "k"]]?.stringValue == "4")
        #expect(ObjectStoreError.compacted(compactRevision: 5, requested: 1).status.code == 410)
    }

    @Test(arguments: StoreKind.allCases)
    func guaranteedUpdateRetriesAConflict(kind: StoreKind) async throws {
        let subject = try await kind.make()
        defer { Task { await subject.close() } }
        let store = subject.store
        _ = try await store.create(Self.key("a"), Self.map("a", ""))
        let attempts = Counter()
        let result = try await store.guaranteedUpdate(Self.key("a")) { current in
            if await attempts.next() == 1 {
                // Another writer gets in between the read and the write.
                var other = current.object
                other[path: ["data", "other"]] = "yes"
                _ = try await store.update(Self.key("a"), other, expectedRevision: current.modRevision)
            }
            var mine = current.object
            mine[path: ["data", "k"]] = .string((mine[path: ["data", "k"]]?.stringValue ?? "") + "mine")
            return mine
        }
        #expect(await attempts.value == 2)
        #expect(result?.object[path: ["data", "other"]]?.stringValue == "yes", "the other writer's change is kept")
        #expect(result?.object[path: ["data", "k"]]?.stringValue == "mine")
        let unchanged = try await store.guaranteedUpdate(Self.key("a")) { _ in nil }
        #expect(unchanged?.modRevision == result?.modRevision, "nil leaves the object alone")
        #expect(try await store.guaranteedUpdate(Self.key("gone")) { $0.object } == nil)
    }
}

actor Counter {
    private(set) var value = 0
    func next() -> Int {
        value += 1
        return value
    }
}
