import TestSupport
import Foundation
@testable import KineLayer

extension Array where Element == UInt8 {
    /// Test shorthand: the UTF-8 bytes of a string literal.
    static func k(_ s: String) -> [UInt8] { Array(s.utf8) }
}

/// Opens a store in a fresh directory and hands it to `body`; closes and removes it after.
func withStore<T>(_ options: KineOptions = KineOptions(), _ body: (KineStore, TemporaryDirectory) async throws -> T) async throws -> T {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    let store = try await KineStore.open(directory: dir.path, options: options)
    do {
        let value = try await body(store, dir)
        await store.close()
        return value
    } catch {
        await store.close()
        throw error
    }
}

/// Options for tests: no automatic compaction unless a test asks for it, fast lease checks.
func testOptions(_ mode: CommitMode = .group()) -> KineOptions {
    var options = KineOptions()
    options.commitMode = mode
    options.compactionInterval = nil
    options.leaseCheckInterval = .milliseconds(100)
    return options
}

/// Collects the changes of a watch until `until` says enough, or fails after `timeout`.
func collect(_ watch: KineWatch, timeout: Duration = .seconds(60),
             until done: @escaping @Sendable ([Event]) -> Bool) async throws -> [Event] {
    try await collect(watch.stream, timeout: timeout, until: done)
}

/// Collects watch changes (progress markers are skipped) until `until` says enough, or fails after `timeout`.
func collect(_ stream: AsyncThrowingStream<WatchMessage, any Error>, timeout: Duration = .seconds(60),
             until done: @escaping @Sendable ([Event]) -> Bool) async throws -> [Event] {
    try await withThrowingTaskGroup(of: [Event]?.self) { group in
        group.addTask {
            var events: [Event] = []
            for try await message in stream {
                guard case .events(let batch) = message else { continue }
                events.append(contentsOf: batch)
                if done(events) { return events }
            }
            return events
        }
        group.addTask {
            try await Task.sleep(for: timeout)
            return nil
        }
        let first = try await group.next()!
        group.cancelAll()
        guard let events = first else { throw TimedOut() }
        return events
    }
}

struct TimedOut: Error {}
