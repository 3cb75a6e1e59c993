import TestSupport
import Testing
@testable import KineLayer

@Suite(.timeLimit(.minutes(5))) struct KeyRangeAndRowIDTests {
    @Test func prefixEndIncrementsTheLastByteThatCan() {
        #expect(KeyRange.prefixEnd(.k("/a/")) == .k("/a0"))
        #expect(KeyRange.prefixEnd([0x61, 0xFF, 0xFF]) == [0x62])
        #expect(KeyRange.prefixEnd([0xFF, 0xFF]) == nil)
        #expect(KeyRange.prefixEnd([]) == nil)
        #expect(KeyRange.prefix([0xFF]).end == .unbounded)
    }

    @Test func rangesContainWhatEtcdSays() {
        let prefix = KeyRange.prefix("/a/")
        #expect(prefix.contains(.k("/a/x")))
        #expect(prefix.contains(.k("/a/")))
        #expect(!prefix.contains(.k("/a")))
        #expect(!prefix.contains(.k("/b/x")))
        #expect(KeyRange.etcd(key: .k("k"), rangeEnd: []) == .key("k"))
        #expect(KeyRange.etcd(key: .k("k"), rangeEnd: [0]) == .from(.k("k")))
        #expect(KeyRange.etcd(key: .k("a"), rangeEnd: .k("c")).contains(.k("b")))
        #expect(!KeyRange.etcd(key: .k("a"), rangeEnd: .k("c")).contains(.k("c")))
        #expect(KeyRange.all.contains([]))
    }

    @Test func rowIDsOrderByRevisionThenSubRevision() {
        let a = RowID.make(revision: 5, sub: 0)
        let b = RowID.make(revision: 5, sub: 3)
        let c = RowID.make(revision: 6, sub: 0)
        #expect(a < b && b < c)
        #expect(RowID.revision(b) == 5)
        #expect(RowID.first(of: 5) == a)
        #expect(RowID.last(of: 5) < c)
        #expect(RowID.last(of: 5) >= b)
        #expect(RowID.revision(RowID.last(of: 5)) == 5)
    }
}
