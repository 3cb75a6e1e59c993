import Foundation
import X509

/// kube-apiserver's rules for CertificateSigningRequests at admission:
/// - a new request records who asked (`spec.username`, `uid`, `groups`, `extra`: the
///   requesting user, whatever the client sent) and must carry a PEM `CERTIFICATE REQUEST`
///   in `spec.request` (422 otherwise);
/// - approving or denying (the `approval` subresource) needs the `approve` verb on
///   `signers` named by the request's signer (or its `DOMAIN/*`), and writing a certificate
///   into the status needs `sign` on it (the CertificateApproval and CertificateSigning
///   plugins), so that only those trusted with a signer decide its requests.
public struct CertificateSigningRequestAdmission: AdmissionPlugin {
    let authorizer: any Authorizer

    public init(authorizer: any Authorizer) { self.authorizer = authorizer }

    public func admit(_ object: inout JSON, _ request: AdmissionRequest) async throws -> AdmissionOutcome {
        guard request.resource.group == "certificates.k8s.io", request.resource.plural == "certificatesigningrequests" else { return .none }
        switch (request.operation, request.subresource) {
        case (.create, ""):
            object[path: ["spec", "username"]] = .string(request.user.name)
            object[path: ["spec", "uid"]] = request.user.uid.isEmpty ? nil : .string(request.user.uid)
            object[path: ["spec", "groups"]] = .array(request.user.groups.map { .string($0) })
            object[path: ["spec", "extra"]] = request.user.extra.isEmpty ? nil : .object(request.user.extra.mapValues { .array($0.map { .string($0) }) })
            let text = (object[path: ["spec", "request"]]?.stringValue).flatMap { Data(base64Encoded: $0) }.map { String(decoding: $0, as: UTF8.self) } ?? ""
            if (try? CertificateSigningRequest(pemEncoded: text)) == nil {
                throw StatusError.invalid(kind: "CertificateSigningRequest", group: "certificates.k8s.io", name: request.name, causes: [
                    .init(field: "spec.request", type: "FieldValueInvalid", message: "Invalid value: \"\": PEM block type must be CERTIFICATE REQUEST"),
                ])
            }
        case (.update, "approval"):
            let old = request.old?[path: ["status", "conditions"]] ?? .null
            if (object[path: ["status", "conditions"]] ?? .null) != old { try await require("approve", object, request) }
        case (.update, "status"):
            let old = request.old?[path: ["status", "certificate"]] ?? .null
            if (object[path: ["status", "certificate"]] ?? .null) != old { try await require("sign", object, request) }
        default:
            break
        }
        return .none
    }

    /// Refuses unless the user may `verb` the request's signer (by name, or `DOMAIN/*`).
    private func require(_ verb: String, _ object: JSON, _ request: AdmissionRequest) async throws {
        let signer = object[path: ["spec", "signerName"]]?.stringValue ?? ""
        var names = [signer]
        if let slash = signer.firstIndex(of: "/") { names.append(signer[..<slash] + "/*") }
        for name in names {
            var attributes = AuthorizationAttributes(user: request.user, verb: verb, isResourceRequest: true)
            attributes.group = "certificates.k8s.io"
            attributes.resource = "signers"
            attributes.name = name
            if await authorizer.authorize(attributes).allowed { return }
        }
        throw StatusError(code: 403, reason: "Forbidden",
                          message: "certificatesigningrequests.certificates.k8s.io \"\(request.name)\" is forbidden: user not permitted to \(verb) requests with signerName \"\(signer)\"",
                          details: ["name": .string(request.name), "group": "certificates.k8s.io", "kind": "certificatesigningrequests"])
    }
}
