import CSQLite3
import Testing
@testable import Storage

/// What reaches the file below a ``WALWriteBuffer``, recorded by a stand-in file whose
/// only method is xWrite.
@Suite(.serialized, .timeLimit(.minutes(5))) struct WALWriteBufferTests {
    /// The writes the stand-in file was given: offset and length of each.
    nonisolated(unsafe) static var written: [(offset: Int64, count: Int)] = []

    nonisolated(unsafe) private static let methods: UnsafeMutablePointer<sqlite3_io_methods> = {
        let m = UnsafeMutablePointer<sqlite3_io_methods>.allocate(capacity: 1)
        m.initialize(to: sqlite3_io_methods())
        m.pointee.iVersion = 1
        m.pointee.xWrite = { _, _, count, offset in
            WALWriteBufferTests.written.append((offset, Int(count)))
            return SQLITE_OK
        }
        return m
    }()

    private func withFile(_ body: (UnsafeMutablePointer<sqlite3_file>) -> Void) {
        Self.written = []
        let file = UnsafeMutablePointer<sqlite3_file>.allocate(capacity: 1)
        defer { file.deallocate() }
        file.initialize(to: sqlite3_file(pMethods: Self.methods))
        body(file)
    }

    /// A frame as SQLite writes it: its header, then its page; a commit frame's header
    /// carries the database size in pages in bytes 4-7.
    private func frame(_ buffer: WALWriteBuffer, at offset: Int64, commit: Bool, _ file: UnsafeMutablePointer<sqlite3_file>) -> [Int32] {
        var header = [UInt8](repeating: 0, count: WALWriteBuffer.frameHeaderSize)
        if commit { header[7] = 1 }
        let page = [UInt8](repeating: 7, count: 4096)
        return [buffer.write(header, count: header.count, at: offset, to: file),
                buffer.write(page, count: page.count, at: offset + Int64(header.count), to: file)]
    }

    @Test func aCommitOfSeveralFramesReachesTheFileAsOneWriteWhenItsLastPageArrives() {
        withFile { file in
            let buffer = WALWriteBuffer()
            let frameBytes = Int64(WALWriteBuffer.frameHeaderSize + 4096)
            for i in 0..<3 {
                #expect(frame(buffer, at: 32 + Int64(i) * frameBytes, commit: false, file) == [SQLITE_OK, SQLITE_OK])
            }
            #expect(Self.written.isEmpty, "nothing is written before the commit frame")
            _ = frame(buffer, at: 32 + 3 * frameBytes, commit: true, file)
            #expect(Self.written.count == 1)
            #expect(Self.written.first?.offset == 32)
            #expect(Self.written.first?.count == Int(4 * frameBytes))
        }
    }

    @Test func aWriteElsewhereOrPastTheLimitWritesOutWhatIsHeldFirst() {
        withFile { file in
            let buffer = WALWriteBuffer()
            let frameBytes = Int64(WALWriteBuffer.frameHeaderSize + 4096)
            _ = frame(buffer, at: 32, commit: false, file)
            // Not contiguous with the held run (a write back at the file's start).
            _ = frame(buffer, at: 32 + 10 * frameBytes, commit: false, file)
            #expect(Self.written.map(\.offset) == [32])
            // Enough frames to pass one write's limit: the run is split, never longer.
            for i in 11..<60 { _ = frame(buffer, at: 32 + Int64(i) * frameBytes, commit: false, file) }
            #expect(Self.written.count >= 2)
            #expect(Self.written.allSatisfy { $0.count <= WALWriteBuffer.limit })
            #expect(buffer.flush(to: file) == SQLITE_OK)
            let total = Self.written.dropFirst().reduce(0) { $0 + $1.count }
            #expect(total == Int(50 * frameBytes), "every byte reached the file once")
        }
    }
}
