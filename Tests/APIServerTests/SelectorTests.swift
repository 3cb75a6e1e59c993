import Foundation
import Testing
@testable import APIServer

@Suite(.timeLimit(.minutes(10))) struct SelectorTests {
    let labels = ["app": "web", "tier": "front", "version": "3"]

    @Test(arguments: [
        ("app=web", true), ("app==web", true), ("app!=web", false), ("app=db", false),
        ("app in (db,web)", true), ("app notin (db,web)", false), ("tier", true), ("!tier", false),
        ("missing", false), ("!missing", true), ("version>2", true), ("version<3", false),
        ("app=web,tier=front", true), ("app=web,tier=back", false), ("", true),
    ])
    func labelSelectorsMatchAsKubernetesDoes(selector: String, expected: Bool) throws {
        #expect(try LabelSelector(parsing: selector).matches(labels) == expected)
    }

    @Test(arguments: ["app in (a", "=x", "a b c", "a in b", "bad key!=x"])
    func malformedLabelSelectorsAreBadRequests(selector: String) {
        #expect(throws: StatusError.self) { try LabelSelector(parsing: selector) }
    }

    @Test func labelSelectorObjectsMatchToo() throws {
        let selector = try LabelSelector(object: ["matchLabels": ["app": "web"],
                                                  "matchExpressions": [["key": "tier", "operator": "In", "values": ["front"]]]])
        #expect(selector.matches(labels))
        #expect(!selector.matches(["app": "web"]))
        #expect(selector.text == "app=web,tier in (front)")
    }

    @Test func fieldSelectorsReadFieldsAndRefuseUnknownOnes() throws {
        let pod: JSON = ["metadata": ["name": "p", "namespace": "ns"], "status": ["phase": "Running"], "spec": ["hostNetwork": true]]
        let supported: Set<String> = ["metadata.name", "status.phase", "spec.hostNetwork"]
        #expect(try FieldSelector(parsing: "status.phase=Running,metadata.name=p", supported: supported).matches(pod))
        #expect(try !FieldSelector(parsing: "status.phase!=Running", supported: supported).matches(pod))
        #expect(try FieldSelector(parsing: "spec.hostNetwork=true", supported: supported).matches(pod))
        #expect(throws: StatusError.self) { try FieldSelector(parsing: "spec.nodeName=x", supported: supported) }
    }

    @Test func namesFollowTheDNSRules() {
        #expect(NameValidation.subdomainErrors("web.example-1").isEmpty)
        #expect(!NameValidation.subdomainErrors("Web").isEmpty)
        #expect(!NameValidation.subdomainErrors("-web").isEmpty)
        #expect(!NameValidation.subdomainErrors(String(repeating: "a", count: 254)).isEmpty)
        #expect(NameValidation.labelErrors("kube-system").isEmpty)
        #expect(!NameValidation.labelErrors("a.b").isEmpty)
        #expect(!NameValidation.dns1035LabelErrors("1web").isEmpty)
        #expect(NameValidation.labelKeyErrors("app.kubernetes.io/name").isEmpty)
        #expect(!NameValidation.labelKeyErrors("a/b/c").isEmpty)
        #expect(NameValidation.labelValueErrors("").isEmpty)
        #expect(!NameValidation.labelValueErrors("-x").isEmpty)
    }

    @Test func continueTokensRoundTripAndRejectGarbage() throws {
        let token = ContinueToken(revision: 42, start: "ns/name\u{0}")
        let decoded = try ContinueToken(decoding: token.encoded)
        #expect(decoded == token)
        #expect(throws: StatusError.self) { try ContinueToken(decoding: "not-a-token") }
    }

    @Test func requestPathsNameWhatTheyAddress() throws {
        let get = try #require(RequestInfo(method: .GET, path: "/apis/apps/v1/namespaces/shop/deployments/web/scale", query: [:]))
        #expect(get.group == "apps" && get.namespace == "shop" && get.resource == "deployments" && get.name == "web" && get.subresource == "scale")
        let ns = try #require(RequestInfo(method: .PUT, path: "/api/v1/namespaces/shop/status", query: [:]))
        #expect(ns.resource == "namespaces" && ns.name == "shop" && ns.subresource == "status" && ns.verb == .update)
        let watch = try #require(RequestInfo(method: .GET, path: "/api/v1/pods", query: ["watch": ["1"]]))
        #expect(watch.verb == .watch && watch.namespace == nil)
        #expect(RequestInfo(method: .DELETE, path: "/api/v1/namespaces/a/configmaps", query: [:])?.verb == .deletecollection)
        #expect(RequestInfo(method: .GET, path: "/version", query: [:]) == nil)
    }

    @Test func agesReadAsKubectlShowsThem() {
        #expect(TableColumn.humanDuration(5) == "5s")
        #expect(TableColumn.humanDuration(185) == "3m5s")
        #expect(TableColumn.humanDuration(3 * 3600) == "3h")
        #expect(TableColumn.humanDuration(3 * 86400 + 7200) == "3d2h")
    }
}

@Suite(.timeLimit(.minutes(10))) struct TimestampTests {
    @Test func rfc3339RoundTripsAndReadsOffsetsAndFractions() throws {
        let date = Date(timeIntervalSince1970: 1_700_000_000)
        #expect(RFC3339.string(date) == "2023-11-14T22:13:20Z")
        #expect(RFC3339.parse("2023-11-14T22:13:20Z") == date)
        #expect(RFC3339.parse("2023-11-14T23:13:20+01:00") == date)
        #expect(try #require(RFC3339.parse("2023-11-14T22:13:20.250000Z")).timeIntervalSince1970 == 1_700_000_000.25)
        #expect(RFC3339.parse("2023-11-14 22:13:20") == nil)
        #expect(RFC3339.parse("yesterday") == nil)
        #expect(RFC3339.microString(Date(timeIntervalSince1970: 1_700_000_000.25)) == "2023-11-14T22:13:20.250000Z")
    }
}
