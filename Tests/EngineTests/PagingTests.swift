@testable import APIServer
import Foundation
import Testing

/// Paged lists: every page of a list read at one revision says how many objects follow it,
/// counted once on the first page and carried by the continue token.
@Suite(.timeLimit(.minutes(1)))
struct PagingTests {
    static let maps = "/api/v1/namespaces/paging/configmaps"

    @Test func everyPageSaysHowManyFollowWhateverIsWrittenMeanwhile() async throws {
        let api = try await InProcessAPI()
        #expect(await api.request(.POST, "/api/v1/namespaces", .resource("v1", "Namespace", name: "paging")).status == 201)
        for i in 0..<7 {
            #expect(await api.request(.POST, Self.maps, .resource("v1", "ConfigMap", name: "m\(i)", namespace: "paging")).status == 201)
        }
        var token = ""
        var names: [String] = []
        var remainders: [Int64?] = []
        repeat {
            let page = await api.request(.GET, Self.maps + "?limit=2" + (token.isEmpty ? "" : "&continue=\(token)"))
            #expect(page.status == 200, "\(page.body)")
            names += (page.body["items"]?.arrayValue ?? []).compactMap { $0[path: ["metadata", "name"]]?.stringValue }
            remainders.append(page.body[path: ["metadata", "remainingItemCount"]]?.intValue)
            token = page.body[path: ["metadata", "continue"]]?.stringValue ?? ""
            if names.count == 2 {
                // Writes after the first page do not change a list read at its revision.
                #expect(await api.request(.POST, Self.maps, .resource("v1", "ConfigMap", name: "late", namespace: "paging")).status == 201)
                #expect(await api.request(.DELETE, Self.maps + "/m5").status == 200)
            }
        } while !token.isEmpty && names.count < 100
        #expect(names == ["m0", "m1", "m2", "m3", "m4", "m5", "m6"])
        #expect(remainders == [5, 3, 1, nil])
        // A filtered list is counted by no page (kube-apiserver leaves it out too).
        let filtered = await api.request(.GET, Self.maps + "?limit=2&fieldSelector=metadata.name!=m1")
        #expect(filtered.body[path: ["metadata", "remainingItemCount"]] == nil)
        #expect(filtered.body[path: ["metadata", "continue"]] != nil)
    }
}
