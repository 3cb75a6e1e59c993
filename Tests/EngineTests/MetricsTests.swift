@testable import APIServer
import Foundation
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
