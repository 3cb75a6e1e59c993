import Foundation

/// An `admission.k8s.io/v1` AdmissionReview: the request Skiff sends a webhook and the
/// checked response it gets back.
struct AdmissionReview: Sendable {
    /// What the webhook is told the request is about, at the version it matched.
    struct Subject: Sendable {
        var group: String
        var version: String
        var kind: String
        var plural: String
    }

    /// The answer of a webhook, once checked.
    struct Response: Sendable {
        var allowed: Bool
        var status: JSON?
        /// The JSONPatch to apply (mutating webhooks), already decoded.
        var patch: JSON?
        var warnings: [String]
        var auditAnnotations: [String: String]
    }

    static let apiVersion = "admission.k8s.io/v1"
    /// Warnings longer than this are cut, and at most this many are kept (a webhook's answer
    /// becomes headers of the client's).
    static let warningLength = 1024
    static let warningCount = 32

    let uid: String
    let body: JSON

    /// The review of `request` for a webhook that matched it as `subject`; `object` and
    /// `oldObject` already at that version.
    init(_ request: AdmissionRequest, subject: Subject, object: JSON?, oldObject: JSON?) {
        uid = UUID().uuidString.lowercased()
        let resource = request.resource
        var user: JSON = ["username": .string(request.user.name), "groups": .array(request.user.groups.map { .string($0) })]
        if !request.user.uid.isEmpty { user["uid"] = .string(request.user.uid) }
        if !request.user.extra.isEmpty {
            user["extra"] = .object(request.user.extra.mapValues { .array($0.map { .string($0) }) })
        }
        // A Scale is autoscaling/v1's, whatever the scaled resource's group.
        let scale = request.subresource == "scale"
        let kindOf: JSON = scale ? ["group": "autoscaling", "version": "v1", "kind": "Scale"]
            : ["group": .string(subject.group), "version": .string(subject.version), "kind": .string(subject.kind)]
        var review: JSON = [
            "uid": .string(uid),
            "kind": kindOf,
            "resource": ["group": .string(subject.group), "version": .string(subject.version), "resource": .string(subject.plural)],
            "requestKind": scale ? kindOf : ["group": .string(resource.group), "version": .string(resource.version), "kind": .string(Self.kind(request))],
            "requestResource": ["group": .string(resource.group), "version": .string(resource.version), "resource": .string(resource.plural)],
            "operation": .string(request.operation.rawValue), "userInfo": user, "dryRun": .bool(request.dryRun),
            "object": object ?? .null, "oldObject": oldObject ?? .null,
        ]
        if !request.subresource.isEmpty {
            review["subResource"] = .string(request.subresource)
            review["requestSubResource"] = .string(request.subresource)
        }
        if !request.name.isEmpty { review["name"] = .string(request.name) }
        if !request.namespace.isEmpty { review["namespace"] = .string(request.namespace) }
        review["options"] = request.options ?? Self.defaultOptions(request)
        body = ["apiVersion": .string(Self.apiVersion), "kind": "AdmissionReview", "request": review]
    }

    /// The kind a request's object has: the resource's, or the subresource's own (a Scale).
    static func kind(_ request: AdmissionRequest) -> String {
        request.subresource == "scale" ? "Scale" : request.resource.kind
    }

    /// The options kube-apiserver sends when the request gave none.
    static func defaultOptions(_ request: AdmissionRequest) -> JSON {
        let kind = switch request.operation {
        case .create: "CreateOptions"
        case .update: "UpdateOptions"
        case .delete: "DeleteOptions"
        }
        var options: JSON = ["apiVersion": "meta.k8s.io/v1", "kind": .string(kind)]
        if request.dryRun { options["dryRun"] = ["All"] }
        return options
    }

    /// Checks a webhook's answer as kube-apiserver's VerifyAdmissionResponse does: an
    /// AdmissionReview of v1 whose `response.uid` is this request's; a patch only with
    /// `patchType: JSONPatch` (and only from a mutating webhook).
    func response(from answer: JSON, mutating: Bool) throws(WebhookCallError) -> Response {
        let apiVersion = answer["apiVersion"]?.stringValue ?? "", kind = answer["kind"]?.stringValue ?? ""
        guard apiVersion == Self.apiVersion, kind == "AdmissionReview" else {
            throw .invalidResponse("expected webhook response of admission.k8s.io/v1, Kind=AdmissionReview, got \(apiVersion), Kind=\(kind)")
        }
        guard let response = answer["response"], case .object = response else {
            throw .invalidResponse("webhook response was absent")
        }
        let got = response["uid"]?.stringValue ?? ""
        guard got == uid else { throw .invalidResponse("expected response.uid=\"\(uid)\", got \"\(got)\"") }
        guard let allowed = response["allowed"]?.boolValue else { throw .invalidResponse("response.allowed must be a boolean") }
        var patch: JSON? = nil
        if let encoded = response["patch"]?.stringValue, !encoded.isEmpty {
            guard mutating else { throw .invalidResponse("validating webhooks may not return patches") }
            guard let patchType = response["patchType"]?.stringValue, !patchType.isEmpty else {
                throw .invalidResponse("webhook returned response.patch but not response.patchType")
            }
            guard patchType == "JSONPatch" else { throw .invalidResponse("webhook returned invalid response.patchType of \"\(patchType)\"") }
            guard let bytes = Data(base64Encoded: encoded) else { throw .invalidResponse("response.patch is not base64") }
            do {
                patch = try JSON.parse(Array(bytes))
            } catch {
                throw .invalidResponse("received undecodable patch in webhook response: \(error)")
            }
            guard case .array = patch else { throw .invalidResponse("received undecodable patch in webhook response: not a JSON array") }
        } else if let patchType = response["patchType"]?.stringValue, !patchType.isEmpty, !mutating {
            throw .invalidResponse("validating webhooks may not return response.patchType")
        }
        let warnings = (response["warnings"]?.arrayValue ?? []).compactMap(\.stringValue).prefix(Self.warningCount).map {
            String($0.unicodeScalars.filter { $0.value >= 32 && $0.value != 127 }.prefix(Self.warningLength).map(Character.init))
        }
        let annotations = (response["auditAnnotations"]?.objectValue ?? [:]).compactMapValues(\.stringValue)
        return Response(allowed: allowed, status: response["status"], patch: patch, warnings: warnings, auditAnnotations: annotations)
    }

    /// A refusal in kube-apiserver's words: `admission webhook "NAME" denied the request:
    /// MESSAGE`, with the webhook's code (400 when it gave none under 400) and reason.
    static func denial(_ webhook: String, status: JSON?) -> StatusError {
        let deniedBy = "admission webhook \"\(webhook)\" denied the request"
        let code = status?["code"]?.intValue.map(Int.init) ?? 0
        let message = status?["message"]?.stringValue ?? "", reason = status?["reason"]?.stringValue ?? ""
        let text = !message.isEmpty ? "\(deniedBy): \(message)" : !reason.isEmpty ? "\(deniedBy): \(reason)" : "\(deniedBy) without explanation"
        var error = StatusError(code: (400...599).contains(code) ? code : 400, reason: reason, message: text)
        if let details = status?["details"], case .object = details { error.details = details }
        return error
    }
}
