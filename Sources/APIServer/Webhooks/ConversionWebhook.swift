import Foundation

/// A custom resource's `spec.conversion.strategy: Webhook`: objects go to the webhook in an
/// `apiextensions.k8s.io/v1` ConversionReview and come back at the desired version. As
/// kube-apiserver checks them: the same number, each at the desired apiVersion and of the
/// same kind, with only labels and annotations of the metadata changed (the rest is kept
/// from the object sent).
struct ConversionWebhook: ObjectConversion {
    static let apiVersion = "apiextensions.k8s.io/v1"
    /// At most this many objects, and about this many bytes of them, go in one review (a
    /// long list makes several calls; the answer must fit the caller's response limit).
    static let batch = 500
    static let batchBytes = WebhookCaller.responseLimit / 3

    let caller: WebhookCaller
    let target: WebhookTarget
    /// The resource's group and kind, its served `apiVersion` and its storage `apiVersion`.
    let group: String
    let kind: String
    let servedVersion: String
    let storageVersion: String
    /// Whether the definition accepts ConversionReview v1.
    let acceptsV1: Bool

    init(caller: WebhookCaller, definition webhook: JSON, resource: ResourceDescriptor, storageVersion: String) {
        self.caller = caller
        group = resource.group
        kind = resource.kind
        servedVersion = resource.groupVersion
        self.storageVersion = resource.group + "/" + storageVersion
        target = WebhookTarget(id: "conversion/\(resource.plural).\(resource.group)", clientConfig: webhook["clientConfig"] ?? .emptyObject,
                               timeoutSeconds: 30)
        let versions = (webhook["conversionReviewVersions"]?.arrayValue ?? []).compactMap(\.stringValue)
        acceptsV1 = versions.isEmpty || versions.contains("v1")
    }

    func served(_ objects: [JSON]) async throws -> [JSON] { try await convert(objects, to: servedVersion) }

    func stored(_ object: JSON) async throws -> JSON { try await convert([object], to: storageVersion)[0] }

    /// `objects` at `desired`; those already there are not sent.
    func convert(_ objects: [JSON], to desired: String) async throws -> [JSON] {
        let pending = objects.indices.filter { objects[$0]["apiVersion"]?.stringValue != desired }
        guard !pending.isEmpty else { return objects }
        var result = objects
        var slice: [Int] = [], bytes = 0
        func flush() async throws {
            guard !slice.isEmpty else { return }
            let converted = try await call(slice.map { objects[$0] }, to: desired)
            for (index, object) in zip(slice, converted) { result[index] = object }
            slice = []
            bytes = 0
        }
        for index in pending {
            let size = objects[index].serialized().count
            if !slice.isEmpty && (slice.count >= Self.batch || bytes + size > Self.batchBytes) { try await flush() }
            slice.append(index)
            bytes += size
        }
        try await flush()
        return result
    }

    private func call(_ objects: [JSON], to desired: String) async throws -> [JSON] {
        let uid = UUID().uuidString.lowercased()
        let review: JSON = ["apiVersion": .string(Self.apiVersion), "kind": "ConversionReview",
                            "request": ["uid": .string(uid), "desiredAPIVersion": .string(desired), "objects": .array(objects)]]
        do {
            guard acceptsV1 else { throw WebhookCallError.configuration("the webhook does not accept ConversionReview v1") }
            let answer = try await caller.call(target, review: review)
            return try checked(answer, uid: uid, sent: objects, desired: desired)
        } catch let error as WebhookCallError {
            throw failure("\(error)", desired)
        }
    }

    private func checked(_ answer: JSON, uid: String, sent: [JSON], desired: String) throws -> [JSON] {
        let apiVersion = answer["apiVersion"]?.stringValue ?? "", kind = answer["kind"]?.stringValue ?? ""
        guard apiVersion == Self.apiVersion, kind == "ConversionReview" else {
            throw failure("expected webhook response of apiextensions.k8s.io/v1, Kind=ConversionReview, got \(apiVersion), Kind=\(kind)", desired)
        }
        guard let response = answer["response"], case .object = response else { throw failure("no response provided", desired) }
        let got = response["uid"]?.stringValue ?? ""
        guard got == uid else { throw failure("expected response.uid=\"\(uid)\", got \"\(got)\"", desired) }
        let result = response["result"] ?? .emptyObject
        guard result["status"]?.stringValue == "Success" else {
            throw failure("conversion webhook failed: " + (result["message"]?.stringValue ?? "no result status"), desired)
        }
        let converted = response["convertedObjects"]?.arrayValue ?? []
        guard converted.count == sent.count else {
            throw failure("returned \(converted.count) objects, expected \(sent.count)", desired)
        }
        return try zip(sent, converted).map { original, object in
            guard case .object = object else { throw failure("a converted object is not an object", desired) }
            let version = object["apiVersion"]?.stringValue ?? ""
            guard version == desired else {
                throw failure("invalid converted object: expected apiVersion \(desired), got \(version)", desired)
            }
            guard object["kind"]?.stringValue == self.kind else {
                throw failure("invalid converted object: expected kind \(self.kind), got \(object["kind"]?.stringValue ?? "")", desired)
            }
            // Only labels and annotations may change; the rest of the metadata is the original's.
            var restored = object
            var metadata = original["metadata"] ?? .emptyObject
            for field in ["labels", "annotations"] {
                let value = object[path: ["metadata", field]]
                if let value, value != .null, value.objectValue?.values.contains(where: { $0.stringValue == nil }) ?? true {
                    throw failure("invalid converted object: metadata.\(field) must be a map of strings", desired)
                }
                metadata[field] = value
            }
            restored["metadata"] = metadata
            return restored
        }
    }

    /// kube-apiserver's words: `conversion webhook for GROUP/VERSION, Kind=KIND failed: …`.
    private func failure(_ why: String, _ desired: String) -> StatusError {
        StatusError.internalError("conversion webhook for \(desired), Kind=\(kind) failed: \(why)")
    }
}
