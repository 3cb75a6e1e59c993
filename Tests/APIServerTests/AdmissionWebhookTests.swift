import Foundation
import TestSupport
import Testing

/// Admission webhooks called for real: HTTPS webhook servers started by a Python script with
/// a test CA (openssl), registered with Mutating- and ValidatingWebhookConfigurations against
/// a real `skiff server`, exercised with Python's `kubernetes` client and kubectl.
@Suite(.timeLimit(.minutes(5))) struct AdmissionWebhookTests {
    @Test func webhooksMutateValidateAndFailAsConfigured() async throws {
        try await offPool {
            let server = try SkiffServer()
            defer { server.destroy() }
            let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("python/admission_webhooks.py").path
            let result = try run(try which("python3"), [script, server.kubeconfig, try which("kubectl")], timeout: 240)
            #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)\n\(server.logTail())")
            #expect(result.stdout.hasSuffix("OK\n"), "\(result.stdout)")
        }
    }
}
