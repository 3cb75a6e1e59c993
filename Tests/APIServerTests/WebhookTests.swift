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
        try await offPool {
            let server = try SkiffServer()
            defer { server.destroy() }
            let result = try run(try which("python3"), [Self.script("admission_webhooks.py"), server.kubeconfig, try which("kubectl")],
                                 timeout: 240)
            #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)\n\(server.logTail())")
            #expect(result.stdout.hasSuffix("OK\n"), "\(result.stdout)")
        }
    }

    /// A two-version custom resource converted by its definition's webhook on create, get,
    /// list, watch and apply; a webhook that cannot be reached fails reads at the other version.
    @Test func aConversionWebhookConvertsEveryReadAndWrite() async throws {
        try await offPool {
            let server = try SkiffServer()
            defer { server.destroy() }
            let result = try run(try which("python3"), [Self.script("conversion_webhook.py"), server.kubeconfig], timeout: 240)
            #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)\n\(server.logTail())")
            #expect(result.stdout.hasSuffix("OK\n"), "\(result.stdout)")
        }
    }

    /// An aggregated API server behind an APIService: the published trust, availability,
    /// requests proxied with the caller's identity (RBAC checked first), discovery,
    /// `kubectl api-resources`, metrics, and availability lost.
    @Test func anAggregatedAPIIsProxiedWithTheCallersIdentity() async throws {
        try await offPool {
            let server = try SkiffServer()
            defer { server.destroy() }
            let result = try run(try which("python3"), [Self.script("aggregated_api.py"), server.kubeconfig, try which("kubectl")],
                                 timeout: 240)
            #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)\n\(server.logTail())")
            #expect(result.stdout.hasSuffix("OK\n"), "\(result.stdout)")
        }
    }

    static func script(_ name: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("python/" + name).path
    }
}
