import Foundation

/// Starts a server process and reads its standard output until `announced` finds what it
/// waits for in the text so far (typically the port the server bound); the process is
/// terminated and an error thrown if that does not come within 60 seconds.
public func startAnnouncedProcess<T>(_ process: Process, logFile: String? = nil, announced: (String) -> T?) throws -> T {
    let out = Pipe()
    process.standardOutput = out
    if let logFile, FileManager.default.createFile(atPath: logFile, contents: nil), let log = FileHandle(forWritingAtPath: logFile) {
        process.standardError = log
    } else {
        process.standardError = FileHandle.standardError
    }
    try process.run()
    var buffer = Data()
    let deadline = Date().addingTimeInterval(60)
    while Date() < deadline {
        // Wait for output no longer than the deadline: a server that stays silent must not
        // hold the test (and its process slot) forever.
        var ready = pollfd(fd: out.fileHandleForReading.fileDescriptor, events: Int16(POLLIN), revents: 0)
        guard poll(&ready, 1, Int32(max(1, deadline.timeIntervalSinceNow * 1000))) > 0 else { break }
        let chunk = out.fileHandleForReading.availableData
        if chunk.isEmpty { break }
        buffer.append(chunk)
        if let value = announced(String(decoding: buffer, as: UTF8.self)) { return value }
    }
    process.terminate()
    throw ServerDidNotStart(output: String(decoding: buffer, as: UTF8.self))
}

/// A server exited or stayed silent instead of announcing where it listens.
public struct ServerDidNotStart: Error, CustomStringConvertible {
    public let output: String
    public init(output: String) { self.output = output }
    public var description: String { "the server did not announce itself; it printed: \(output)" }
}

/// A server process a test started, with its data directory.
open class TestServerProcess: @unchecked Sendable {
    public let process: Process
    public let dataDir: String

    public init(process: Process, dataDir: String) {
        self.process = process
        self.dataDir = dataDir
    }

    /// Stops the server with SIGTERM and waits for it.
    public func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }

    /// Stops the server and removes its data.
    open func destroy() {
        stop()
        try? FileManager.default.removeItem(atPath: dataDir)
    }
}
