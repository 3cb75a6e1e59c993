/// Runs a command's servers until a shutdown signal (SIGINT, SIGTERM) arrives or one of them
/// stops; announcement tasks (printing where a server listens once it is bound) run beside
/// them and end early without stopping anything.
enum ServiceRunner {
    typealias Task = @Sendable () async throws -> Void

    static func run(services: [Task], announcements: [Task]) async throws {
        try await withThrowingTaskGroup(of: Bool.self) { group in
            for service in services { group.addTask { try await service(); return true } }
            for announcement in announcements { group.addTask { try await announcement(); return false } }
            group.addTask { await ShutdownSignal.wait(); return true }
            while let stop = try await group.next(), !stop {}
            group.cancelAll()
        }
    }
}
