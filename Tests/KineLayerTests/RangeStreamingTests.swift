import Storage
import TestSupport
import Testing
@testable import KineLayer

/// A range read streams its rows from the index in key order: SQL neither copies the range
/// into a temporary table nor sorts it, so memory does not grow with the range and a limit
/// ends the scan early.
@Suite(.timeLimit(.minutes(5))) struct RangeStreamingTests {
    @Test func theRangeQueryPlanNeitherMaterializesNorSorts() async throws {
        try await withStore(testOptions()) { store, _ in
            try await store.create(.k("/s/a"), value: .k("1"))
            for range in [KeyRange.prefix("/s/"), KeyRange(start: .k("/s/a"), end: .before(.k("/s/z"))), KeyRange(start: .k("/s/"), end: .unbounded), .key("/s/a")] {
                let (condition, parameters) = KineSQL.rangeCondition(range)
                func plan(_ sql: String) async throws -> [String] {
                    try await store.database.read { c in
                        try await c.query("EXPLAIN QUERY PLAN " + sql, parameters + [.integer(Int64.max), .integer(10)])
                            .map { $0.values.last?.text ?? "" }
                    }
                }
                let streaming = try await plan(KineSQL.list(condition))
                #expect(!streaming.contains { $0.contains("TEMP B-TREE") || $0.contains("MATERIALIZE") }, "\(streaming)")
                // The check can see a sort: the sorted form has one.
                #expect(try await plan(KineSQL.listSorted(condition)).contains { $0.contains("TEMP B-TREE") })
            }
        }
    }

    @Test func rangesComeInKeyOrderAtEveryRevisionWithLimits() async throws {
        try await withStore(testOptions()) { store, _ in
            // Keys written in shuffled order, several versions each, some deleted and
            // recreated: the index holds each key's history next to it.
            var expected: [String: String] = [:]
            var rng = SystemRandomNumberGenerator()
            let keys = (0..<300).map { String(format: "/o/%03d", $0) }.shuffled(using: &rng)
            for round in 0..<3 {
                for (i, key) in keys.enumerated() {
                    if (i + round) % 7 == 0, expected[key] != nil {
                        try await store.delete(.k(key))
                        expected[key] = nil
                    } else {
                        try await store.put(.k(key), value: .k("\(round)"))
                        expected[key] = "\(round)"
                    }
                }
            }
            let sorted = expected.keys.sorted()
            let all = try await store.list(.prefix("/o/"))
            #expect(all.kvs.map { String(decoding: $0.key, as: UTF8.self) } == sorted)
            #expect(all.kvs.map(\.valueString) == sorted.map { expected[$0]! })
            #expect(RangeQuery.inKeyOrder(try await store.database.read { c in
                try await RangeQuery.liveRows(of: .prefix("/o/"), c, at: all.revision)
            }))

            let first = try await store.list(.prefix("/o/"), limit: 25)
            #expect(first.kvs.map { String(decoding: $0.key, as: UTF8.self) } == Array(sorted.prefix(25)))
            let after = try await store.list(KeyRange(start: .k(sorted[100]), end: .before(.k("/o0"))), limit: 10)
            #expect(after.kvs.map { String(decoding: $0.key, as: UTF8.self) } == Array(sorted[100..<110]))
        }
    }
}

/// Counting a range reads only the `(name, id, deleted)` index, and files written with the
/// earlier `(name, id)` index get the new one when opened.
@Suite(.timeLimit(.minutes(5))) struct RangeCountIndexTests {
    @Test func countingReadsOnlyTheIndex() async throws {
        try await withStore(testOptions()) { store, _ in
            for i in 0..<20 { try await store.create(.k("/n/\(i)"), value: .k("v")) }
            for i in 0..<20 where i % 4 == 0 { try await store.delete(.k("/n/\(i)")) }
            let before = try await store.currentRevision()
            try await store.delete(.k("/n/1"))
            #expect(try await store.list(.prefix("/n/"), limit: 3, withCount: true).count == 14)
            #expect(try await store.list(.prefix("/n/"), revision: before, limit: 3, withCount: true).count == 15)

            let (condition, parameters) = KineSQL.rangeCondition(.prefix("/n/"))
            let plan = try await store.database.read { c in
                try await c.query("EXPLAIN QUERY PLAN " + KineSQL.count(condition), parameters + [.integer(Int64.max)])
                    .map { $0.values.last?.text ?? "" }
            }
            #expect(plan.contains { $0.contains("COVERING INDEX kine_name_id_deleted") }, "\(plan)")
            #expect(!plan.contains { $0.contains("PRIMARY KEY") }, "no row is read: \(plan)")
        }
    }
}
