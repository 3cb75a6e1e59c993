import Foundation
import Logging

/// Signs approved CertificateSigningRequests of Kubernetes' own signers with the cluster CA
/// (kube-controller-manager's `csrsigning`, named `certificatesigningrequest-signing` in
/// `--controllers`): the certificate goes into `status.certificate`; a request the signer's
/// rules refuse gets a `Failed` condition (reason `SignerValidationFailure`). Requests of other
/// signers, and denied or failed ones, are left alone. Works from a watch, after one pass over
/// what exists.
public struct CertificateSigningController: Sendable {
    static let prefix = RegistryKey.resourcePrefix(group: "certificates.k8s.io", resource: "certificatesigningrequests")

    /// Reads.
    let store: any ObjectStore
    /// Writes the status, as `system:skiff:certificate-signer`.
    let client: LoopbackClient
    let signer: CertificateSigner
    let logger: Logger

    public init(store: any ObjectStore, client: LoopbackClient, signer: CertificateSigner, logger: Logger) {
        self.store = store
        self.client = client
        self.signer = signer
        self.logger = logger
    }

    /// Runs until cancelled; a failed watch is started again after a pause.
    public func run() async {
        await ControllerLoop.run("certificate signer", logger: logger) {
            let revision = try await store.currentRevision()
            try await store.forEach(prefix: Self.prefix, revision: revision) { entry in
                try await handle(entry.key, try StoredCodec.decode(entry.value, key: entry.key, revision: entry.modRevision))
            }
            try await store.watchChanges(prefix: Self.prefix, after: revision) { events in
                for event in events where event.kind == .put {
                    try await handle(event.key, try StoredCodec.decode(event.value, key: event.key, revision: event.revision))
                }
            }
        }
    }

    private func handle(_ key: String, _ request: JSON) async throws {
        guard Self.pending(request) else { return }
        try await client.guaranteedUpdate(key, in: store, subresource: "status") { current in
            guard Self.pending(current.object) else { return nil }
            var signed = current.object
            let spec = current.object["spec"] ?? .emptyObject
            let pem = (spec["request"]?.stringValue).flatMap { Data(base64Encoded: $0) }.map { String(decoding: $0, as: UTF8.self) } ?? ""
            do {
                let certificate = try signer.sign(requestPEM: pem, signerName: spec["signerName"]?.stringValue ?? "",
                                                  usages: (spec["usages"]?.arrayValue ?? []).compactMap(\.stringValue),
                                                  expirationSeconds: spec["expirationSeconds"]?.intValue.map { Int(clamping: $0) })
                signed[path: ["status", "certificate"]] = .string(Data(certificate.utf8).base64EncodedString())
                logger.info("signed the certificate request \(current.object[path: ["metadata", "name"]]?.stringValue ?? key)")
            } catch let refusal as CertificateSigner.Refusal {
                let now = JSON.string(ResourceEngine.now())
                var conditions = current.object[path: ["status", "conditions"]]?.arrayValue ?? []
                conditions.append(["type": "Failed", "status": "True", "reason": "SignerValidationFailure",
                                   "message": .string(refusal.description), "lastUpdateTime": now, "lastTransitionTime": now])
                signed[path: ["status", "conditions"]] = .array(conditions)
            }
            return signed
        }
    }

    /// Approved, of a signer served here, and neither signed, denied nor failed.
    static func pending(_ request: JSON) -> Bool {
        guard let signer = request[path: ["spec", "signerName"]]?.stringValue, CertificateSigner.signers.contains(signer),
              (request[path: ["status", "certificate"]]?.stringValue ?? "").isEmpty else { return false }
        let conditions = request[path: ["status", "conditions"]]?.arrayValue ?? []
        func holds(_ type: String) -> Bool {
            conditions.contains { $0["type"]?.stringValue == type && $0["status"]?.stringValue == "True" }
        }
        return holds("Approved") && !holds("Denied") && !holds("Failed")
    }
}
