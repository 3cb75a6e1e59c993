#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Foundation
import NIOCore
import NIOPosix
import Testing
@testable import Cluster

/// The relay between a member's node and its TLS connections holds back when one side reads
/// slower than the other sends.
@Suite(.timeLimit(.minutes(1)))
struct RelayHandlerTests {
    /// A sender writes 32 MiB through a relay whose far side reads nothing: the relay stops
    /// reading once its write buffer passes the high water mark, so the sender blocks after
    /// a few megabytes instead of the relay taking all 32 MiB into memory. Once the far side
    /// reads, every byte arrives, in order.
    @Test func aReaderThatFallsBehindMakesTheSenderWait() async throws {
        let (senderEnd, relayIn) = try LocalSocket.pair()
        let (relayOut, receiverEnd) = try LocalSocket.pair()
        defer { close(senderEnd); close(receiverEnd) }
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let outbound = try await ClientBootstrap(group: loop)
            .channelOption(.writeBufferWaterMark, value: RelayHandler.waterMark)
            .withConnectedSocket(relayOut).get()
        let inbound = try await ClientBootstrap(group: loop)
            .channelOption(.autoRead, value: false)
            .channelOption(.writeBufferWaterMark, value: RelayHandler.waterMark)
            .withConnectedSocket(relayIn).get()
        try await outbound.pipeline.addHandler(RelayHandler(partner: inbound)).get()
        try await inbound.pipeline.addHandler(RelayHandler(partner: outbound)).get()
        try await inbound.setOption(.autoRead, value: true).get()
        defer { inbound.close(promise: nil); outbound.close(promise: nil) }

        let total = 32 << 20
        final class Progress: @unchecked Sendable {
            let lock = NSLock()
            var written = 0
            var value: Int { lock.withLock { written } }
        }
        let progress = Progress()
        let sent = DispatchSemaphore(value: 0)
        Thread {
            // Each 64 KiB block of the stream holds its own number.
            var chunk = [UInt8](repeating: 0, count: 64 << 10)
            var offset = 0
            while offset < total {
                let left = (64 << 10) - offset % (64 << 10)
                let n = chunk.withUnsafeMutableBytes { bytes -> Int in
                    guard let base = bytes.baseAddress else { return -1 }
                    memset(base, Int32(truncatingIfNeeded: offset >> 16), left)
                    return write(senderEnd, base, left)
                }
                if n <= 0 { break }
                offset += n
                progress.lock.withLock { progress.written = offset }
            }
            sent.signal()
        }.start()

        // The relay stops reading, and the sender stays blocked well short of the total.
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(20)
        var holding = false
        while clock.now < deadline, !holding {
            try await Task.sleep(for: .milliseconds(50))
            holding = try await inbound.getOption(.autoRead).get() == false
        }
        #expect(holding, "the relay never stopped reading; the sender wrote \(progress.value) bytes")
        // The sender comes to rest (the same count over five looks 50 ms apart), or finishes.
        var stalled = progress.value, unchanged = 0
        while clock.now < deadline, unchanged < 5, stalled < total {
            try await Task.sleep(for: .milliseconds(50))
            let now = progress.value
            unchanged = now == stalled ? unchanged + 1 : 0
            stalled = now
        }
        #expect(stalled < 16 << 20, "the sender wrote \(stalled) of \(total) bytes with nobody reading")

        // The far side reads everything, in order.
        let received: (count: Int, intact: Bool) = try await withCheckedThrowingContinuation { continuation in
            Thread {
                var buffer = [UInt8](repeating: 0, count: 64 << 10)
                var count = 0, intact = true
                while count < total {
                    let n = buffer.withUnsafeMutableBytes { read(receiverEnd, $0.baseAddress, $0.count) }
                    if n <= 0 { break }
                    for i in 0..<n where buffer[i] != UInt8(truncatingIfNeeded: (count + i) >> 16) { intact = false }
                    count += n
                }
                continuation.resume(returning: (count, intact))
            }.start()
        }
        #expect(received.count == total && received.intact)
        #expect(sent.wait(timeout: .now() + 10) == .success)
    }
}
