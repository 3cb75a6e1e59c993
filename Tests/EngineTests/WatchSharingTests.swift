@testable import APIServer
import Foundation
import NIOHTTP1
import Synchronization
import Testing

/// Watchers of the same change share its encoding: JSON events splice the stored bytes, and
/// other encodings are made once for every watcher that writes them alike.
@Suite(.timeLimit(.minutes(1)))
struct WatchSharingTests {
    static let maps = "/api/v1/namespaces/default/configmaps"

    @Test func watchersOfAChangeShareItsEncodingAndSeeWhatAGetSees() async throws {
        let api = try await InProcessAPI()
        let start = try #require(await api.request(.GET, Self.maps).body[path: ["metadata", "resourceVersion"]]?.stringValue)
        for i in 0..<4 {
            #expect(await api.request(.POST, Self.maps, .resource("v1", "ConfigMap", name: "m\(i)", namespace: "default",
                                                                  ["data": ["n": .string(String(i)), "quote": "a \"quoted\" \\ value"]])).status == 201)
        }
        #expect(await api.request(.PATCH, Self.maps + "/m1", ["data": ["n": "one"]], contentType: "application/merge-patch+json").status == 200)
        #expect(await api.request(.DELETE, Self.maps + "/m2").status == 200)

        // JSON: the events carry exactly what a read of the object gives at that revision.
        let jsonBefore = api.bootstrap.api.engine.watchEvents.count
        let events = try await api.watch(Self.maps + "?watch=true&resourceVersion=\(start)") { $0.count >= 6 }
        #expect(api.bootstrap.api.engine.watchEvents.count - jsonBefore == 6, "each spliced line made once")
        let again = try await api.watch(Self.maps + "?watch=true&resourceVersion=\(start)") { $0.count >= 6 }
        #expect(again == events)
        #expect(api.bootstrap.api.engine.watchEvents.count - jsonBefore == 6, "a second watcher writes the lines the first made")
        #expect(events.map { $0["type"]?.stringValue ?? "" } == ["ADDED", "ADDED", "ADDED", "ADDED", "MODIFIED", "DELETED"])
        let m1 = await api.request(.GET, Self.maps + "/m1").body
        #expect(events[4]["object"] == m1, "the spliced event is the object a GET returns")
        #expect(events[0]["object"]?[path: ["data", "quote"]]?.stringValue == "a \"quoted\" \\ value")
        let deleted = try #require(events[5]["object"])
        #expect(deleted[path: ["metadata", "name"]]?.stringValue == "m2")
        #expect(deleted[path: ["metadata", "resourceVersion"]] != events[2]["object"]?[path: ["metadata", "resourceVersion"]],
                "a deletion shows the last state at the deletion's revision")

        // Protobuf: three watchers of the same changes write the same frames, encoded once.
        let before = api.bootstrap.api.engine.watchEvents.count
        var streams: [[UInt8]] = []
        for _ in 0..<3 {
            streams.append(try await rawWatch(api, Self.maps + "?watch=true&resourceVersion=\(start)", frames: 6))
        }
        #expect(streams[0].count > 0 && streams[1] == streams[0] && streams[2] == streams[0])
        #expect(api.bootstrap.api.engine.watchEvents.count - before == 6, "each change encoded once for the three watchers")
    }

    @Test func theSharedValuesDropTheOldestPastTheirCostOrCount() {
        let lines = RecentValues<Int, [UInt8]>(capacity: 100, maxCost: 1000) { $0.count }
        for i in 0..<10 { _ = lines.value(i) { [UInt8](repeating: 1, count: 300) } }
        #expect(lines.count == 3 && lines.totalCost == 900, "the oldest went once 1,000 bytes were passed")
        var made = false
        _ = lines.value(9) { made = true; return [] }
        #expect(!made, "the newest is still held")
        _ = lines.value(0) { made = true; return [UInt8](repeating: 0, count: 10) }
        #expect(made, "the oldest had gone")
        let big = lines.value(42) { [UInt8](repeating: 2, count: 5000) }
        #expect(big.count == 5000 && lines.totalCost == 910 && lines.count == 4, "a value over the limit is handed out, not held")
        let counted = RecentValues<Int, Int>(capacity: 3)
        for i in 0..<200 { _ = counted.value(i) { i } }
        #expect(counted.count == 3)
        made = false
        #expect(counted.value(199) { made = true; return -1 } == 199 && !made)
    }

    @Test func watchersWithSelectorsParseEachChangeOnce() async throws {
        let api = try await InProcessAPI()
        let start = try #require(await api.request(.GET, Self.maps).body[path: ["metadata", "resourceVersion"]]?.stringValue)
        for i in 0..<4 {
            #expect(await api.request(.POST, Self.maps, .resource("v1", "ConfigMap", name: "m\(i)", namespace: "default",
                                                                  ["data": ["n": .string(String(i))]])).status == 201)
        }
        #expect(await api.request(.PATCH, Self.maps + "/m1", ["data": ["n": "one"]], contentType: "application/merge-patch+json").status == 200)
        #expect(await api.request(.DELETE, Self.maps + "/m2").status == 200)
        let before = api.bootstrap.api.engine.watchObjects.count
        let watch = Self.maps + "?watch=true&resourceVersion=\(start)&fieldSelector="
        let one = try await api.watch(watch + "metadata.name%3Dm1") { $0.count >= 2 }
        #expect(one.map { $0["type"]?.stringValue ?? "" } == ["ADDED", "MODIFIED"])
        #expect(one.last?["object"]?[path: ["data", "n"]]?.stringValue == "one")
        let allButFirst = try await api.watch(watch + "metadata.name!%3Dm0") { $0.count >= 5 }
        #expect(allButFirst.map { $0["type"]?.stringValue ?? "" } == ["ADDED", "ADDED", "ADDED", "MODIFIED", "DELETED"])
        let two = try await api.watch(watch + "metadata.name%3Dm2") { $0.count >= 2 }
        #expect(two.map { $0["type"]?.stringValue ?? "" } == ["ADDED", "DELETED"])
        #expect(two.last?["object"]?[path: ["metadata", "name"]]?.stringValue == "m2")
        // Four created objects, the update's new one (its old one is m1 as created) and the
        // deleted one's last state: six parses for the three watchers, not one per watcher.
        #expect(api.bootstrap.api.engine.watchObjects.count - before == 6)
    }

    /// The bytes of a protobuf watch until `frames` length-prefixed frames have come.
    func rawWatch(_ api: InProcessAPI, _ uri: String, frames: Int) async throws -> [UInt8] {
        let headers: HTTPHeaders = ["Authorization": "Bearer \(InProcessAPI.adminToken)", "Accept": "application/vnd.kubernetes.protobuf;type=watch"]
        let response = await api.bootstrap.api.respond(to: HTTPRequest(method: .GET, uri: uri, headers: headers, remoteAddress: "127.0.0.1"))
        guard case .stream(let write) = response.body else { throw InProcessError.notAStream(Int(response.status.code)) }
        let collected = Collected()
        @Sendable func complete(_ bytes: [UInt8]) -> Bool {
            var offset = 0, seen = 0
            while bytes.count - offset >= 4 {
                let length = bytes[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) }
                guard bytes.count - offset - 4 >= length else { break }
                offset += 4 + length
                seen += 1
            }
            return seen >= frames
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await write(HTTPBodyWriter { bytes in
                    if collected.bytes.withLock({ $0 += bytes; return complete($0) }) { throw CancellationError() }
                })
            }
            group.addTask { try await Task.sleep(for: .seconds(10)) }
            defer { group.cancelAll() }
            _ = try? await group.next()
        }
        return collected.bytes.withLock { $0 }
    }

    final class Collected: Sendable {
        let bytes = Mutex<[UInt8]>([])
    }
}
