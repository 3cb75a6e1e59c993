import ArgumentParser
import Foundation
import KineLayer

/// A writer for crash tests: creates keys from several tasks for ever and prints
/// `ACK <key> <revision>` for each write once it is acknowledged. A test kills it with
/// SIGKILL and checks that every acknowledged write survived.
struct CrashWriter: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "crash-writer",
        abstract: "Write keys until killed, printing each acknowledged write (for crash tests).",
        shouldDisplay: false)

    @Option(help: "The data directory.")
    var dataDir: String

    @Option(help: "Concurrent writer tasks.")
    var writers: Int = 8

    func run() async throws {
        let store = try await KineStore.open(directory: dataDir)
        FileHandle.standardOutput.write(Data("READY\n".utf8))
        await withDiscardingTaskGroup { group in
            for w in 0..<writers {
                group.addTask {
                    var n = 0
                    while true {
                        let key = "/crash/w\(w)/\(n)"
                        do {
                            let kv = try await store.create(Array(key.utf8), value: Array("value-\(n)".utf8))
                            let line = "ACK \(key) \(kv.modRevision)\n"
                            FileHandle.standardOutput.write(Data(line.utf8))
                        } catch {
                            FileHandle.standardError.write(Data("write \(key) failed: \(error)\n".utf8))
                        }
                        n += 1
                    }
                }
            }
        }
    }
}
