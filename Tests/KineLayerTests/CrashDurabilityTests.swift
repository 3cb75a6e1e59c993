import Foundation
import TestSupport
import Testing
@testable import KineLayer

@Suite(.timeLimit(.minutes(5))) struct CrashDurabilityTests {
    /// A writer process killed with SIGKILL in the middle of acknowledged writes loses none
    /// of them: after reopening, every acknowledged key is there at its acknowledged revision.
    @Test func sigkillLosesNoAcknowledgedWrite() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try builtProduct("skiff-bench"))
        process.arguments = ["crash-writer", "--data-dir", dir.path, "--writers", "8"]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()

        let reader = pipe.fileHandleForReading
        var buffer = Data()
        var acknowledged: [String: Int64] = [:]
        func consume() {
            while let newline = buffer.firstIndex(of: 0x0A) {
                let line = String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self)
                buffer.removeSubrange(buffer.startIndex...newline)
                let parts = line.split(separator: " ")
                if parts.count == 3, parts[0] == "ACK" { acknowledged[String(parts[1])] = Int64(parts[2]) }
            }
        }
        let deadline = Date().addingTimeInterval(120)
        while acknowledged.count < 3_000 && Date() < deadline {
            let chunk = reader.availableData
            if chunk.isEmpty { break }
            buffer.append(chunk)
            consume()
        }
        #expect(acknowledged.count >= 3_000, "the writer acknowledged too few writes before the deadline")
        kill(process.processIdentifier, SIGKILL)
        // Acknowledgements already in the pipe count too.
        while true {
            let chunk = reader.availableData
            if chunk.isEmpty { break }
            buffer.append(chunk)
            consume()
        }
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal)

        let store = try await KineStore.open(directory: dir.path, options: testOptions())
        var missing = 0
        for (key, revision) in acknowledged {
            let kv = try await store.get(Array(key.utf8)).kv
            if kv?.modRevision != revision { missing += 1 }
        }
        #expect(missing == 0, "\(missing) of \(acknowledged.count) acknowledged writes lost")
        #expect(Set(acknowledged.values).count == acknowledged.count)
        // The store is writable after the crash, continuing the revision sequence.
        let current = try await store.currentRevision()
        #expect(current >= acknowledged.values.max()!)
        let next = try await store.create(.k("/after-crash"), value: .k("ok"))
        #expect(next.modRevision == current + 1)
        await store.close()
    }
}
