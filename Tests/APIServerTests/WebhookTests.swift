import Foundation
import TestSupport
import Testing

/// Webhooks and aggregated API servers called for real: HTTPS servers started by Python
/// scripts with a test CA (openssl), registered against a real `skiff server` and exercised
/// with Python's `kubernetes` client and kubectl.
@Suite(.timeLimit(.minutes(5))) struct WebhookTests {
    /// Mutating and validating admission webhooks: patches, denials, failure policies, a
    /// timeout, selectors and match conditions, a Service's EndpointSlice, DELETE, dry runs,
    /// reinvocation, warnings, metrics.
    @Test func admissionWebhooksMutateValidateAndFailAsConfigured() async throws {
        try await Self.runScript("admission_webhooks.py", withKubectl: true)
    }

    /// A two-version custom resource converted by its definition's webhook on create, get,
    /// list, watch and apply; a webhook that cannot be reached fails reads at the other version.
    @Test func aConversionWebhookConvertsEveryReadAndWrite() async throws {
        try await Self.runScript("conversion_webhook.py", withKubectl: false)
    }

    /// An aggregated API server behind an APIService: the published trust, availability,
    /// requests proxied with the caller's identity (RBAC checked first), discovery,
    /// `kubectl api-resources`, OpenAPI, metrics, namespaces, and availability lost.
    @Test func anAggregatedAPIIsProxiedWithTheCallersIdentity() async throws {
        try await Self.runScript("aggregated_api.py", withKubectl: true)
    }

    /// Runs a script against a new `skiff server` (its kubeconfig, then kubectl's path when
    /// asked); it must exit 0 with `OK` last.
    static func runScript(_ name: String, withKubectl: Bool) async throws {
        try await offPool {
            let server = try SkiffServer()
            defer { server.destroy() }
            let arguments = [script(name), server.kubeconfig] + (withKubectl ? [try which("kubectl")] : [])
            let result = try run(try which("python3"), arguments, timeout: 240)
            #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)\n\(server.logTail())")
            #expect(result.stdout.hasSuffix("OK\n"), "\(result.stdout)")
        }
    }

    static func script(_ name: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("python/" + name).path
    }
}
