@testable import APIServer
import Foundation
import TestSupport
@testable import SystemFigures
import Testing

/// `/metrics` says what happened: request counts, latency histograms whose buckets add up,
/// storage operations, and the open watches.
@Suite(.timeLimit(.minutes(1)))
struct MetricsTests {
    /// The value of the sample line that starts with `series` (name and labels).
    static func sample(_ text: String, _ series: String) -> Double? {
        text.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap { Double($0.split(separator: " ").last ?? "") }
    }

    @Test func countsAndHistogramsFollowTheRequests() async throws {
        let api = try await InProcessAPI()
        let before = await api.metrics()
        let created = #"apiserver_request_total{verb="create",resource="configmaps",code="201"}"#
        let storageCreates = #"skiff_storage_duration_seconds_count{operation="create"}"#
        for i in 0..<3 {
            #expect(await api.request(.POST, "/api/v1/namespaces/default/configmaps",
                                      .resource("v1", "ConfigMap", name: "m\(i)", namespace: "default")).status == 201)
        }
        #expect(await api.request(.POST, "/api/v1/namespaces/default/configmaps",
                                  .resource("v1", "ConfigMap", name: "m0", namespace: "default")).status == 409)
        let after = await api.metrics()
        #expect((Self.sample(after, created) ?? 0) - (Self.sample(before, created) ?? 0) == 3)
        #expect(Self.sample(after, #"apiserver_request_total{verb="create",resource="configmaps",code="409"}"#) == 1)
        #expect((Self.sample(after, storageCreates) ?? 0) - (Self.sample(before, storageCreates) ?? 0) >= 4,
                "every create reached the store, the refused one too")

        // A histogram's buckets are cumulative and end at its count.
        let prefix = #"apiserver_request_duration_seconds_bucket{verb="create",resource="configmaps","#
        let buckets = after.split(separator: "\n").filter { $0.hasPrefix(prefix) }.compactMap { Double($0.split(separator: " ").last ?? "") }
        #expect(buckets.count > 2)
        #expect(buckets == buckets.sorted(), "cumulative buckets never decrease")
        #expect(buckets.last == Self.sample(after, #"apiserver_request_duration_seconds_count{verb="create",resource="configmaps"}"#))
        #expect(buckets.last == 4)
    }

    @Test func theProcessFiguresAreTheKernels() async throws {
        let api = try await InProcessAPI()
        let text = await api.metrics()
        let resident = try #require(Self.sample(text, "process_resident_memory_bytes"))
        let kernel = try #require(residentBytes(of: getpid()))
        #expect(resident > kernel / 2 && resident < kernel * 2, "\(resident) against VmRSS \(kernel) bytes")
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        #expect(Self.sample(text, "process_max_fds") == Double(limit.rlim_cur))
        #expect((Self.sample(text, "process_open_fds") ?? 0) >= 3)
        #expect((Self.sample(text, "process_cpu_seconds_total") ?? 0) > 0)
        let started = try #require(Self.sample(text, "process_start_time_seconds"))
        let now = Date().timeIntervalSince1970
        #expect(started <= now + 1 && started > now - 24 * 3600, "started \(started), now \(now)")
        #expect(text.contains("# TYPE process_cpu_seconds_total counter"))

        // Another process's figures (the server reads its dqlite node's this way).
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/sleep")
        child.arguments = ["30"]
        try child.run()
        defer { child.terminate() }
        // Until its exec is done, a child may show no resident pages.
        var figures = try #require(ProcessFigures.read(pid: child.processIdentifier))
        let deadline = ContinuousClock.now + .seconds(10)
        while figures.residentBytes == 0, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
            figures = try #require(ProcessFigures.read(pid: child.processIdentifier))
        }
        #expect(figures.residentBytes > 0 && figures.residentBytes < Int64(resident))
        #expect(figures.startTimeSeconds >= started - 1)
        #expect(ProcessFigures.read(pid: Int32.max) == nil, "no such process")
        // The command in a stat line may hold spaces and parentheses.
        #expect(ProcessFigures.statFields("42 (a (b) c) S 1 2")?.first == "S")
    }

    @Test func theOpenWatchGaugeFollowsWatches() async throws {
        let api = try await InProcessAPI()
        let gauge = "apiserver_registered_watchers"
        #expect(Self.sample(await api.metrics(), gauge) == 0)
        let watching = Task { try await api.watch("/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=0", limit: .seconds(30)) { _ in false } }
        #expect(await api.eventually { Self.sample(await api.metrics(), gauge) == 1 }, "one watch is open")
        watching.cancel()
        _ = try? await watching.value
        #expect(await api.eventually { Self.sample(await api.metrics(), gauge) == 0 }, "and none once it ends")
    }
}
