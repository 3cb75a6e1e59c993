/// authorization.k8s.io SubjectAccessReviews, LocalSubjectAccessReviews and
/// SelfSubjectAccessReviews: the authorizer's decision for the attributes in `spec`, for the
/// user the review names (or the caller, for the self review).
struct AccessReviewStrategy: ReviewStrategy {
    let resource: ResourceDescriptor
    let authorizer: any Authorizer

    func status(of object: JSON, _ request: ResourceRequest) async throws -> JSON {
        let spec = object["spec"] ?? .emptyObject
        let kind = resource.kind
        if kind == "SelfSubjectAccessReview" { return try await decision(spec, user: request.user) }
        let user = UserInfo(name: spec["user"]?.stringValue ?? "", uid: spec["uid"]?.stringValue ?? "",
                            groups: (spec["groups"]?.arrayValue ?? []).compactMap(\.stringValue))
        guard !user.name.isEmpty || !user.groups.isEmpty else {
            throw StatusError.invalid(kind: kind, group: resource.group, name: "", causes: [
                .init(field: "spec.user", type: "FieldValueInvalid", message: "Invalid value: \"\": at least one of user or group must be specified"),
            ])
        }
        if resource.namespaced, spec[path: ["resourceAttributes", "namespace"]]?.stringValue != request.info.namespace {
            throw StatusError.invalid(kind: kind, group: resource.group, name: "", causes: [
                .init(field: "spec.resourceAttributes.namespace", message: "Invalid value: must match the namespace of the request"),
            ])
        }
        return try await decision(spec, user: user)
    }

    private func decision(_ spec: JSON, user: UserInfo) async throws -> JSON {
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
            throw StatusError.invalid(kind: resource.kind, group: resource.group, name: "", causes: [
                .init(field: "spec.resourceAttributes", type: "FieldValueRequired",
                      message: "Required value: exactly one of nonResourceAttributes or resourceAttributes must be specified"),
            ])
        }
        let decision = await authorizer.authorize(attributes)
        return ["allowed": .bool(decision.allowed), "reason": .string(decision.reason)]
    }
}

/// authorization.k8s.io SelfSubjectRulesReviews: what the caller may do in a namespace.
struct SelfSubjectRulesReviewStrategy: ReviewStrategy {
    let authorizer: any Authorizer

    func status(of object: JSON, _ request: ResourceRequest) async throws -> JSON {
        let namespace = object[path: ["spec", "namespace"]]?.stringValue ?? ""
        let rules = await authorizer.rules(for: request.user, namespace: namespace)
        return ["resourceRules": .array(rules.resourceRules), "nonResourceRules": .array(rules.nonResourceRules),
                "incomplete": .bool(rules.incomplete)]
    }
}
