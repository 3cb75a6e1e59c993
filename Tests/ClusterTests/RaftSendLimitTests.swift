import CRaftSendLimit
import Testing

/// The AppendEntries limit's reading and rewriting of libraft 0.15's message encoding
/// (CRaftSendLimit), on messages built here byte by byte.
@Suite(.timeLimit(.minutes(1)))
struct RaftSendLimitTests {
    /// An encoded AppendEntries message: the header buffer, then a buffer per entry.
    final class Message {
        var header: [UInt8] = []
        var entries: [UnsafeMutableRawBufferPointer] = []

        init(type: UInt64 = 1, sizes: [Int], unusedTail: Int = 8) {
            var body: [UInt8] = []
            for field: UInt64 in [7, 41, 6, 40] { body += Self.bytes(field) }  // term, prev index, prev term, commit
            body += Self.bytes(UInt64(sizes.count))
            for size in sizes {
                body += Self.bytes(7) + [1, 0, 0, 0] + Self.bytes(UInt32(size))
            }
            body += [UInt8](repeating: 0, count: unusedTail)
            header = Self.bytes(type) + Self.bytes(UInt64(body.count)) + body
            entries = sizes.map { UnsafeMutableRawBufferPointer.allocate(byteCount: max($0, 1), alignment: 8) }
            self.sizes = sizes
        }

        let sizes: [Int]

        deinit { entries.forEach { $0.deallocate() } }

        static func bytes<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
            withUnsafeBytes(of: value.littleEndian) { Array($0) }
        }

        static func read64(_ bytes: [UInt8], at offset: Int) -> UInt64 {
            bytes[offset..<offset + 8].reversed().reduce(0) { $0 << 8 | UInt64($1) }
        }

        /// Runs `body` with the message as libuv buffers (the header's bytes can be rewritten).
        func withBuffers<R>(lengths: [Int]? = nil, _ body: (inout [skiff_uv_buffer]) -> R) -> R {
            header.withUnsafeMutableBufferPointer { head in
                var buffers = [skiff_uv_buffer(base: UnsafeMutableRawPointer(head.baseAddress!).assumingMemoryBound(to: CChar.self),
                                               len: head.count)]
                for (i, entry) in entries.enumerated() {
                    buffers.append(skiff_uv_buffer(base: entry.baseAddress!.assumingMemoryBound(to: CChar.self),
                                                   len: lengths?[i] ?? sizes[i]))
                }
                return body(&buffers)
            }
        }
    }

    static let mebibyte = 1 << 20

    @Test func aMessageOverTheLimitKeepsTheEntriesThatFitAndSaysSoInItsHeader() {
        let message = Message(sizes: [6 * Self.mebibyte, 6 * Self.mebibyte, 6 * Self.mebibyte, 1024])
        let originalLength = message.header.count
        let (kept, length) = message.withBuffers { buffers -> (Int, Int) in
            let kept = skiff_raft_append_entries_kept(&buffers, UInt32(buffers.count), 16 * Self.mebibyte)
            return (kept, kept < 4 ? skiff_raft_append_entries_rewrite(buffers[0], kept) : 0)
        }
        #expect(kept == 2)
        // Two entries' descriptors fewer; the size field and the count follow.
        #expect(length == originalLength - 2 * 16)
        #expect(Message.read64(message.header, at: 0) == 1)
        #expect(Message.read64(message.header, at: 8) == UInt64(length - 16))
        #expect(Message.read64(message.header, at: 16 + 32) == 2)
        // Term, previous index and term, and commit index are untouched.
        #expect((0..<4).map { Message.read64(message.header, at: 16 + 8 * $0) } == [7, 41, 6, 40])
    }

    @Test func aMessageWithinTheLimitIsLeftWhole() {
        let message = Message(sizes: [6 * Self.mebibyte, 6 * Self.mebibyte, 1024])
        let kept = message.withBuffers { skiff_raft_append_entries_kept(&$0, UInt32($0.count), 16 * Self.mebibyte) }
        #expect(kept == 3)
    }

    @Test func theFirstEntryGoesEvenWhenItAloneIsOverTheLimit() {
        let message = Message(sizes: [20 * Self.mebibyte, 1024], unusedTail: 0)
        let kept = message.withBuffers { skiff_raft_append_entries_kept(&$0, UInt32($0.count), 16 * Self.mebibyte) }
        #expect(kept == 1)
    }

    @Test func buffersThatAreNotAnAppendEntriesMessageAreLeftAlone() {
        let limit = 1024
        // Another message type (an AppendEntries result is type 2).
        let other = Message(type: 2, sizes: [4096, 4096])
        #expect(other.withBuffers { skiff_raft_append_entries_kept(&$0, UInt32($0.count), limit) } == 2)
        // An entry buffer whose length is not its descriptor's.
        let mismatched = Message(sizes: [4096, 4096])
        #expect(mismatched.withBuffers(lengths: [4096, 4000]) { skiff_raft_append_entries_kept(&$0, UInt32($0.count), limit) } == 2)
        // A header whose size field does not match its length.
        let wrongSize = Message(sizes: [4096, 4096])
        wrongSize.header[8] &+= 1
        #expect(wrongSize.withBuffers { skiff_raft_append_entries_kept(&$0, UInt32($0.count), limit) } == 2)
        // A count that is not the number of entry buffers.
        let extraBuffer = Message(sizes: [4096, 4096])
        let kept = extraBuffer.withBuffers { buffers -> Int in
            buffers.append(buffers[1])
            return skiff_raft_append_entries_kept(&buffers, UInt32(buffers.count), limit)
        }
        #expect(kept == 3)
        // A header too short to be one, and a lone buffer.
        var short: [UInt8] = Message.bytes(UInt64(1)) + Message.bytes(UInt64(4))
        let shortKept = short.withUnsafeMutableBufferPointer { head -> Int in
            var buffers = [skiff_uv_buffer(base: UnsafeMutableRawPointer(head.baseAddress!).assumingMemoryBound(to: CChar.self), len: head.count),
                           skiff_uv_buffer(base: UnsafeMutableRawPointer(head.baseAddress!).assumingMemoryBound(to: CChar.self), len: 4)]
            return skiff_raft_append_entries_kept(&buffers, 2, limit)
        }
        #expect(shortKept == 1)
        #expect(skiff_raft_append_entries_kept(nil, 0, limit) == 0)
    }
}
