import Foundation
import Logging
import Synchronization

/// Runs the node process (`skiff dqlite-node`) as a child of the server and restarts it
/// when it dies, so that a crash inside libdqlite costs a restart, not the server.
public final class NodeSupervisor: Sendable {
    private let executable: String
    private let arguments: [String]
    private let logger: Logger
    private let state = Mutex<State>(State())

    private struct State {
        var process: Process?
        var stopping = false
        var exits: AsyncStream<Int32>.Continuation?
        /// Node processes started, and serving, after the first.
        var restarts = 0
        /// Write ends kept open for the life of this process (see `ParentWatch`).
        var lifelines: [Pipe] = []
    }

    /// How long a node process may take to say it serves.
    static let startTimeout: Double = 120

    public init(executable: String, arguments: [String], logger: Logger) {
        self.executable = executable
        self.arguments = arguments
        self.logger = logger
    }

    /// Starts the node process and returns once it serves.
    public func start() async throws {
        let (exits, continuation) = AsyncStream<Int32>.makeStream()
        state.withLock { $0.exits = continuation }
        try await launch()
        Task { await self.superviseExits(exits) }
    }

    /// The running node process's id, if one runs.
    public var processID: Int32? {
        state.withLock { s in s.process.flatMap { $0.isRunning ? $0.processIdentifier : nil } }
    }

    /// How many times the node process was started again after it died.
    public var restarts: Int { state.withLock { $0.restarts } }

    /// Stops the node process: SIGTERM (it hands its role over first), SIGKILL after 20 s.
    public func stop() async {
        let process: Process? = state.withLock { s in
            s.stopping = true
            return s.process
        }
        guard let process, process.isRunning else { return }
        kill(process.processIdentifier, SIGTERM)
        for _ in 0..<200 where process.isRunning { try? await Task.sleep(for: .milliseconds(100)) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        state.withLock { $0.exits?.finish() }
    }

    private func superviseExits(_ exits: AsyncStream<Int32>) async {
        for await status in exits {
            if state.withLock({ $0.stopping }) { return }
            logger.error("the dqlite node process exited; restarting it", metadata: ["status": "\(status)"])
            while !state.withLock({ $0.stopping }) {
                try? await Task.sleep(for: .seconds(1))
                do {
                    try await launch()
                    state.withLock { $0.restarts += 1 }
                    break
                } catch {
                    logger.error("cannot restart the dqlite node process", metadata: ["error": "\(error)"])
                }
            }
        }
    }

    private func launch() async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let output = Pipe(), lifeline = Pipe()
        process.standardOutput = output
        // The node exits when this pipe's write end closes, that is, when this process dies.
        process.standardInput = lifeline
        let exits = state.withLock { $0.exits }
        process.terminationHandler = { p in exits?.yield(p.terminationStatus) }
        try process.run()
        state.withLock { s in
            s.process = process
            s.lifelines.append(lifeline)
        }
        let ready = await Self.waitForReady(output.fileHandleForReading, timeout: Self.startTimeout)
        guard ready else {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            throw ClusterError.nodeFailed("the dqlite node process did not start (see its messages above)")
        }
    }

    /// Reads the child's standard output until the ready line, end of file, or the timeout.
    private static func waitForReady(_ handle: FileHandle, timeout: Double) async -> Bool {
        await withCheckedContinuation { continuation in
            let resumed = Mutex(false)
            let finish: @Sendable (Bool) -> Void = { value in
                let first = resumed.withLock { r in defer { r = true }; return !r }
                if first { continuation.resume(returning: value) }
            }
            DispatchQueue.global().asyncAfter(deadline: .now() + timeout) { finish(false) }
            DispatchQueue.global().async {
                var seen = Data()
                while true {
                    let chunk = handle.availableData
                    if chunk.isEmpty { finish(false); return }
                    seen.append(chunk)
                    if String(decoding: seen, as: UTF8.self).contains(NodeHost.readyLine) { finish(true); return }
                }
            }
        }
    }
}
