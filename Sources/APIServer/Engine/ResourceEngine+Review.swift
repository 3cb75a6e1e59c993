extension ResourceEngine {
    /// POST to a resource that is not stored: the authentication and authorization reviews,
    /// answered from the server's authenticator and authorizer, and `bindings`, which assigns
    /// a pod to a node.
    func review(_ request: ResourceRequest) async throws -> HTTPResponse {
        var object = try request.bodyObject()
        try Self.checkTypeMeta(&object, request.resource)
        var metadata = object["metadata"] ?? .emptyObject
        metadata["creationTimestamp"] = .null
        object["metadata"] = metadata
        let spec = object["spec"] ?? .emptyObject
        switch (request.resource.group, request.resource.plural) {
        case ("authentication.k8s.io", "selfsubjectreviews"):
            object["status"] = ["userInfo": request.user.json]
        case ("authentication.k8s.io", "tokenreviews"):
            guard let token = spec["token"]?.stringValue, !token.isEmpty else {
                throw StatusError.invalid(kind: "TokenReview", group: "authentication.k8s.io", name: "", causes: [
                    .init(field: "spec.token", type: "FieldValueRequired", message: "Required value"),
                ])
            }
            // A service account token is checked against the audiences the review names (the
            // API's own when it names none); other tokens by the authenticators.
            let wanted = (spec["audiences"]?.arrayValue ?? []).compactMap(\.stringValue)
            let audiences = wanted.isEmpty ? ServiceAccountTokens.apiAudiences : wanted
            switch try await serviceAccountTokens?.review(token, audiences: audiences) {
            case .success(let user)?:
                object["status"] = ["authenticated": true, "user": user.json, "audiences": .array(audiences.map { .string($0) })]
            case .failure(let error)?:
                object["status"] = ["authenticated": false, "user": .emptyObject, "error": .string("\(error)")]
            case nil:
                let probe = HTTPRequest(method: .GET, uri: "/", headers: ["Authorization": "Bearer \(token)"])
                switch await authenticator.authenticate(probe) {
                case .authenticated(let user):
                    object["status"] = ["authenticated": true, "user": user.json, "audiences": spec["audiences"] ?? .array([])]
                case .unavailable(let why):
                    throw StatusError.serviceUnavailable("the token could not be checked now: \(why)")
                case .rejected, .noCredential:
                    object["status"] = ["authenticated": false, "user": .emptyObject, "error": "invalid bearer token"]
                }
            }
        case ("authorization.k8s.io", "selfsubjectaccessreviews"):
            object["status"] = try await accessReview(spec, user: request.user, kind: "SelfSubjectAccessReview")
        case ("authorization.k8s.io", "subjectaccessreviews"), ("authorization.k8s.io", "localsubjectaccessreviews"):
            let kind = request.resource.kind
            let user = UserInfo(name: spec["user"]?.stringValue ?? "", uid: spec["uid"]?.stringValue ?? "",
                                groups: (spec["groups"]?.arrayValue ?? []).compactMap(\.stringValue))
            guard !user.name.isEmpty || !user.groups.isEmpty else {
                throw StatusError.invalid(kind: kind, group: "authorization.k8s.io", name: "", causes: [
                    .init(field: "spec.user", type: "FieldValueInvalid", message: "Invalid value: \"\": at least one of user or group must be specified"),
                ])
            }
            if kind == "LocalSubjectAccessReview",
               spec[path: ["resourceAttributes", "namespace"]]?.stringValue != request.info.namespace {
                throw StatusError.invalid(kind: kind, group: "authorization.k8s.io", name: "", causes: [
                    .init(field: "spec.resourceAttributes.namespace", message: "Invalid value: must match the namespace of the request"),
                ])
            }
            object["status"] = try await accessReview(spec, user: user, kind: kind)
        case ("authorization.k8s.io", "selfsubjectrulesreviews"):
            let namespace = spec["namespace"]?.stringValue ?? ""
            let rules = await authorizer.rules(for: request.user, namespace: namespace)
            object["status"] = ["resourceRules": .array(rules.resourceRules), "nonResourceRules": .array(rules.nonResourceRules),
                                "incomplete": .bool(rules.incomplete)]
        case ("", "bindings"):
            return try await bind(object, request)
        default:
            throw StatusError.methodNotAllowed("the server does not allow this method on the requested resource")
        }
        return .json(.created, object)
    }

    /// The status of an access review: the authorizer's decision for the attributes in `spec`.
    private func accessReview(_ spec: JSON, user: UserInfo, kind: String) async throws -> JSON {
        var attributes: AuthorizationAttributes
        if let resource = spec["resourceAttributes"] {
            attributes = AuthorizationAttributes(user: user, verb: resource["verb"]?.stringValue ?? "", isResourceRequest: true)
            attributes.group = resource["group"]?.stringValue ?? ""
            attributes.version = resource["version"]?.stringValue ?? ""
            attributes.resource = resource["resource"]?.stringValue ?? ""
            attributes.subresource = resource["subresource"]?.stringValue ?? ""
            attributes.namespace = resource["namespace"]?.stringValue ?? ""
            attributes.name = resource["name"]?.stringValue ?? ""
        } else if let nonResource = spec["nonResourceAttributes"] {
            attributes = AuthorizationAttributes(user: user, verb: nonResource["verb"]?.stringValue ?? "", isResourceRequest: false)
            attributes.path = nonResource["path"]?.stringValue ?? ""
        } else {
            throw StatusError.invalid(kind: kind, group: "authorization.k8s.io", name: "", causes: [
                .init(field: "spec.resourceAttributes", type: "FieldValueRequired",
                      message: "Required value: exactly one of nonResourceAttributes or resourceAttributes must be specified"),
            ])
        }
        let decision = await authorizer.authorize(attributes)
        return ["allowed": .bool(decision.allowed), "reason": .string(decision.reason)]
    }

    /// Sets a pod's `spec.nodeName` from a Binding; 409 if the pod is already bound.
    private func bind(_ binding: JSON, _ request: ResourceRequest) async throws -> HTTPResponse {
        guard let podName = binding[path: ["metadata", "name"]]?.stringValue,
              let node = binding[path: ["target", "name"]]?.stringValue, !node.isEmpty else {
            throw StatusError.invalid(kind: "Binding", group: "", name: "", causes: [
                .init(field: "target.name", type: "FieldValueRequired", message: "Required value"),
            ])
        }
        let podKey = RegistryKey(group: "", resource: "pods", namespace: request.info.namespace, name: podName).path
        guard let pods = catalog.resource(group: "", version: "v1", plural: "pods") else {
            throw StatusError.internalError("pods are not served")
        }
        guard let pod = try await store.get(podKey) else { throw StatusError.notFound(pods, name: podName) }
        if let bound = pod.object[path: ["spec", "nodeName"]]?.stringValue, !bound.isEmpty {
            throw StatusError.conflict(pods, name: podName, why: "pod \(podName) is already assigned to node \"\(bound)\"")
        }
        var updated = pod.object
        updated[path: ["spec", "nodeName"]] = .string(node)
        if !request.dryRun {
            guard case .written = try await store.update(podKey, updated, expectedRevision: pod.modRevision) else {
                throw StatusError.conflict(pods, name: podName)
            }
        }
        return .json(.created, ["kind": "Status", "apiVersion": "v1", "metadata": .emptyObject, "status": "Success", "code": 201])
    }
}
