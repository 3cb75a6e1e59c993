import Foundation

/// The path of an executable product built beside the test bundle.
public func builtProduct(_ name: String) throws -> String {
    let me = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
    let path = URL(fileURLWithPath: me).deletingLastPathComponent().appendingPathComponent(name).path
    guard FileManager.default.isExecutableFile(atPath: path) else { throw ProgramMissing(name: path) }
    return path
}

/// Finds a program on the PATH.
public func which(_ name: String) throws -> String {
    for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
        let path = "\(dir)/\(name)"
        if FileManager.default.isExecutableFile(atPath: path) { return path }
    }
    throw ProgramMissing(name: name)
}

/// A program the tests need is not there.
public struct ProgramMissing: Error, CustomStringConvertible {
    public let name: String
    public var description: String { "\(name) is not installed (scripts/install-deps installs it)" }
}

/// What a finished command printed.
public struct CommandOutput: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
}

/// Runs a command to completion (killing it after `timeout` seconds) and collects its output.
///
/// Spawned with `posix_spawn` rather than Foundation's `Process`: in Swift 6.3.1,
/// `Process.run()` reads past the end of glibc's `/proc/self/fd` directory buffer
/// (swift-corelibs-foundation PR 5472, fixed after this toolchain) and crashed the test
/// process now and then when many descriptors were open. The pipes are close-on-exec, so the
/// child keeps only its three standard descriptors of them.
@discardableResult
public func run(_ executable: String, _ arguments: [String], stdin: String? = nil, environment: [String: String] = [:],
                timeout: TimeInterval = 120) throws -> CommandOutput {
    var environment = environment
    // kubectl caches discovery per host:port under ~/.kube/cache; test servers reuse ports, so a
    // cache left by an earlier server would answer for a later one. Each kubectl run gets its own.
    let kubectlCache = executable.hasSuffix("/kubectl") && environment["KUBECACHEDIR"] == nil
        ? NSTemporaryDirectory() + "skiff-kubecache-" + UUID().uuidString : nil
    if let kubectlCache { environment["KUBECACHEDIR"] = kubectlCache }
    defer { if let kubectlCache { try? FileManager.default.removeItem(atPath: kubectlCache) } }
    let merged = ProcessInfo.processInfo.environment.merging(environment) { $1 }

    var input: [Int32] = [0, 0], output: [Int32] = [0, 0], errors: [Int32] = [0, 0]
    guard pipe(&input) == 0, pipe(&output) == 0, pipe(&errors) == 0 else { throw SpawnFailed(executable: executable, code: errno) }
    for fd in input + output + errors { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_adddup2(&actions, input[0], 0)
    posix_spawn_file_actions_adddup2(&actions, output[1], 1)
    posix_spawn_file_actions_adddup2(&actions, errors[1], 2)
    func cStrings(_ strings: [String]) -> [UnsafeMutablePointer<CChar>?] { strings.map { strdup($0) } + [nil] }
    let argv = cStrings([executable] + arguments), envp = cStrings(merged.map { "\($0.key)=\($0.value)" })
    defer { for pointer in argv + envp { free(pointer) } }
    var pid: pid_t = 0
    let spawned = posix_spawn(&pid, executable, &actions, nil, argv, envp)
    for fd in [input[0], output[1], errors[1]] { close(fd) }
    guard spawned == 0 else {
        for fd in [input[1], output[0], errors[0]] { close(fd) }
        throw SpawnFailed(executable: executable, code: spawned)
    }
    let (childPID, stdinFD, stdoutFD, stderrFD) = (pid, input[1], output[0], errors[0])
    let killer = DispatchWorkItem { kill(childPID, SIGTERM) }
    DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: killer)
    // Feed stdin and read both outputs at once, so that no pipe fills up and blocks the child.
    let group = DispatchGroup()
    nonisolated(unsafe) var outData = Data(), errData = Data()
    DispatchQueue.global().async(group: group) {
        if let stdin { FileHandle(fileDescriptor: stdinFD, closeOnDealloc: false).write(Data(stdin.utf8)) }
        close(stdinFD)
    }
    DispatchQueue.global().async(group: group) {
        errData = FileHandle(fileDescriptor: stderrFD, closeOnDealloc: true).readDataToEndOfFile()
    }
    outData = FileHandle(fileDescriptor: stdoutFD, closeOnDealloc: true).readDataToEndOfFile()
    group.wait()
    var status: Int32 = 0
    while waitpid(childPID, &status, 0) == -1 && errno == EINTR {}
    killer.cancel()
    // Exit code when it exited, or the signal number (as Process reports it) when killed.
    let code = (status & 0x7f) == 0 ? (status >> 8) & 0xff : status & 0x7f
    return CommandOutput(status: code, stdout: String(decoding: outData, as: UTF8.self), stderr: String(decoding: errData, as: UTF8.self))
}

/// A command could not be started.
public struct SpawnFailed: Error, CustomStringConvertible {
    public let executable: String
    public let code: Int32
    public var description: String { "cannot run \(executable): \(String(cString: strerror(code)))" }
}


/// Runs blocking work (starting servers, running commands, waiting for processes) on
/// threads of its own instead of the few threads of the cooperative pool that every async
/// test shares. The work stays in the calling task (a task executor preference), so task
/// locals, and with them `#expect` and `#require` of the running test, work inside it.
///
/// At most ``ProcessTestSlots/count`` such bodies run at once: each starts servers and
/// clients that want the machine's cores, and run all together on 2 cores, timing-sensitive
/// ones (etcdctl check perf, a ping flood, a thousand slow clients) starved each other.
/// `alone` takes every slot, for a test whose pass criteria are latencies.
public func offPool<T>(alone: Bool = false, _ work: () async throws -> T) async throws -> T {
    let slots = alone ? ProcessTestSlots.count : 1
    await ProcessTestSlots.shared.acquire(slots)
    do {
        let value = try await withTaskExecutorPreference(BlockingWorkExecutor.shared) { try await work() }
        await ProcessTestSlots.shared.release(slots)
        return value
    } catch {
        await ProcessTestSlots.shared.release(slots)
        throw error
    }
}

/// The slots of ``offPool(alone:_:)``: one process test more than the machine has cores (at
/// least 2), first come first served (a test that wants them all is not overtaken). On 2
/// cores, 2 slots made the API and etcd suites take 212 s and 3 slots 182 s; unlimited,
/// three timing-sensitive tests failed.
actor ProcessTestSlots {
    static let count = max(2, ProcessInfo.processInfo.activeProcessorCount) + 1
    static let shared = ProcessTestSlots()

    private var free = ProcessTestSlots.count
    private var waiting: [(slots: Int, resume: CheckedContinuation<Void, Never>)] = []

    func acquire(_ slots: Int) async {
        if waiting.isEmpty && free >= slots {
            free -= slots
            return
        }
        await withCheckedContinuation { waiting.append((slots, $0)) }
    }

    func release(_ slots: Int) {
        free += slots
        while let first = waiting.first, free >= first.slots {
            free -= first.slots
            waiting.removeFirst().resume.resume()
        }
    }
}

/// A task executor that runs each job on a dispatch thread, which may block.
final class BlockingWorkExecutor: TaskExecutor {
    static let shared = BlockingWorkExecutor()

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        DispatchQueue.global().async { job.runSynchronously(on: executor) }
    }
}
