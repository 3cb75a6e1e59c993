/// kube-apiserver's `--authorization-mode=Node`: a kubelet, signed in as `system:node:NAME` in
/// the group `system:nodes`, may read what the pods bound to its node use and write what its
/// node owns, and nothing else:
/// - secrets, config maps, persistent volume claims (and their volumes), volume attachments
///   and service account tokens only when a pod bound to the node refers to them;
/// - pods: get those bound to it, list and watch with the field selector
///   `spec.nodeName=NAME`, create (mirror pods; NodeRestriction admission narrows these) and
///   write the status of pods, delete and evict those bound to it;
/// - nodes: get, list and watch its own (by name or `metadata.name=NAME`), create and update
///   any (NodeRestriction: its own only), its status;
/// - leases in `kube-node-lease` named after the node;
/// - what the `system:node` role of kube-apiserver's bootstrap policy grants besides
///   (events, services, reviews, CSRs, CSI drivers, runtime classes).
/// Other users get no opinion, as does a node asking for anything else: the next authorizer
/// (RBAC) decides.
public struct NodeAuthorizer: Authorizer {
    static let nodesGroup = "system:nodes"
    static let userPrefix = "system:node:"

    let graph: NodeGraph

    /// A node authorizer reading what pods use from `index` (kept from a watch), and volumes
    /// and attachments from `store`.
    public init(store: any ObjectStore, index: NodeGraphIndex) {
        graph = NodeGraph(store: store, index: index)
    }

    /// The node a user signs in for, if the user is a node's kubelet.
    static func nodeName(of user: UserInfo) -> String? {
        guard user.groups.contains(nodesGroup), user.name.hasPrefix(userPrefix) else { return nil }
        let name = String(user.name.dropFirst(userPrefix.count))
        return name.isEmpty ? nil : name
    }

    public func authorize(_ attributes: AuthorizationAttributes) async -> AuthorizationDecision {
        guard let node = Self.nodeName(of: attributes.user) else { return Self.noOpinion("") }
        if attributes.isResourceRequest {
            switch (attributes.group, attributes.resource) {
            case ("", "secrets"): return await readNamespaced(node, .secret, attributes)
            case ("", "configmaps"): return await readNamespaced(node, .configMap, attributes)
            case ("", "persistentvolumeclaims"):
                if attributes.subresource == "status" {
                    guard ["update", "patch"].contains(attributes.verb) else { return Self.noOpinion("can only get/update/patch this type") }
                    return await related(node, .claim, attributes)
                }
                return await getOnly(node, .claim, attributes)
            case ("", "persistentvolumes"): return await getOnly(node, .volume, attributes)
            case ("storage.k8s.io", "volumeattachments"): return await getOnly(node, .attachment, attributes)
            case ("", "serviceaccounts"):
                guard attributes.subresource == "token", attributes.verb == "create" else {
                    return Self.noOpinion("can only create tokens for individual service accounts")
                }
                return await related(node, .serviceAccount, attributes)
            case ("coordination.k8s.io", "leases"): return lease(node, attributes)
            case ("storage.k8s.io", "csinodes"):
                guard ["get", "create", "update", "patch", "delete"].contains(attributes.verb) else {
                    return Self.noOpinion("can only get, create, update, patch, or delete a CSINode")
                }
                guard attributes.subresource.isEmpty else { return Self.noOpinion("cannot access CSINode subresources") }
                // A create's name is in its body: NodeRestriction admission checks it.
                return attributes.verb == "create" || attributes.name == node
                    ? Self.allow : Self.noOpinion("can only access CSINode with the same name as the requesting node")
            case ("", "nodes"): return nodeObject(node, attributes)
            case ("", "pods"): return await pod(node, attributes)
            default: break
            }
        }
        return Self.rules.contains { $0.allows(attributes) } ? Self.allow : Self.noOpinion("")
    }

    public func rules(for user: UserInfo, namespace: String) async -> (resourceRules: [JSON], nonResourceRules: [JSON], incomplete: Bool) {
        guard Self.nodeName(of: user) != nil else { return ([], [], false) }
        // The graph-decided permissions have no rule form: the list is incomplete.
        return (Self.rules.map(\.json), [], true)
    }

    private static let allow = AuthorizationDecision(allowed: true, reason: "")
    private static func noOpinion(_ reason: String) -> AuthorizationDecision { AuthorizationDecision(allowed: false, reason: reason) }

    /// The `system:node` role's rules of kube-apiserver's bootstrap policy, for what the
    /// graph checks above do not decide.
    static let rules: [PolicyRule] = [
        PolicyRule(verbs: ["create"], apiGroups: ["authentication.k8s.io"], resources: ["tokenreviews"]),
        PolicyRule(verbs: ["create"], apiGroups: ["authorization.k8s.io"], resources: ["subjectaccessreviews", "localsubjectaccessreviews"]),
        PolicyRule(verbs: ["get", "list", "watch"], apiGroups: [""], resources: ["services"]),
        PolicyRule(verbs: ["create", "update", "patch"], apiGroups: ["", "events.k8s.io"], resources: ["events"]),
        PolicyRule(verbs: ["get"], apiGroups: [""], resources: ["endpoints"]),
        PolicyRule(verbs: ["create", "get", "list", "watch"], apiGroups: ["certificates.k8s.io"], resources: ["certificatesigningrequests"]),
        PolicyRule(verbs: ["get", "watch", "list"], apiGroups: ["storage.k8s.io"], resources: ["csidrivers"]),
        PolicyRule(verbs: ["get", "list", "watch"], apiGroups: ["node.k8s.io"], resources: ["runtimeclasses"]),
        PolicyRule(verbs: ["deletecollection"], apiGroups: ["resource.k8s.io"], resources: ["resourceslices"]),
    ]

    // MARK: The kinds decided by what the node's pods use

    enum Related {
        case secret, configMap, claim, volume, attachment, serviceAccount, pod
    }

    private func readNamespaced(_ node: String, _ kind: Related, _ attributes: AuthorizationAttributes) async -> AuthorizationDecision {
        guard ["get", "list", "watch"].contains(attributes.verb) else { return Self.noOpinion("can only read resources of this type") }
        guard attributes.subresource.isEmpty else { return Self.noOpinion("cannot read subresource") }
        guard !attributes.namespace.isEmpty else { return Self.noOpinion("can only read namespaced object of this type") }
        return await related(node, kind, attributes)
    }

    private func getOnly(_ node: String, _ kind: Related, _ attributes: AuthorizationAttributes) async -> AuthorizationDecision {
        guard attributes.verb == "get" else { return Self.noOpinion("can only get individual resources of this type") }
        guard attributes.subresource.isEmpty else { return Self.noOpinion("cannot get subresource") }
        return await related(node, kind, attributes)
    }

    /// Allowed when a pod bound to the node refers to the named object.
    private func related(_ node: String, _ kind: Related, _ attributes: AuthorizationAttributes) async -> AuthorizationDecision {
        guard !attributes.name.isEmpty else { return Self.noOpinion("can only access individual objects of this type") }
        do {
            if try await graph.relates(node: node, kind, namespace: attributes.namespace, name: attributes.name) {
                return Self.allow
            }
            // A refusal is decided on an index that holds every pod written before the request.
            await graph.index.catchUp()
            if try await graph.relates(node: node, kind, namespace: attributes.namespace, name: attributes.name) {
                return Self.allow
            }
        } catch {
            return Self.noOpinion("the objects of node \(node) could not be read: \(error)")
        }
        return Self.noOpinion("no relationship found between node '\(node)' and this object")
    }

    private func lease(_ node: String, _ attributes: AuthorizationAttributes) -> AuthorizationDecision {
        guard ["get", "create", "update", "patch", "delete"].contains(attributes.verb) else {
            return Self.noOpinion("can only get, create, update, patch, or delete a node lease")
        }
        guard attributes.namespace == "kube-node-lease" else {
            return Self.noOpinion("can only access leases in the \"kube-node-lease\" system namespace")
        }
        guard attributes.verb == "create" || attributes.name == node else {
            return Self.noOpinion("can only access node lease with the same name as the requesting node")
        }
        return Self.allow
    }

    private func nodeObject(_ node: String, _ attributes: AuthorizationAttributes) -> AuthorizationDecision {
        switch (attributes.subresource, attributes.verb) {
        case ("", "create"), ("", "update"), ("", "patch"), ("status", "update"), ("status", "patch"):
            return Self.allow
        case ("", "get"), ("", "list"), ("", "watch"):
            if attributes.name == node { return Self.allow }
            if attributes.name.isEmpty { return Self.noOpinion("node '\(node)' cannot read all nodes, only its own Node object") }
            return Self.noOpinion("node '\(node)' cannot read '\(attributes.name)', only its own Node object")
        default:
            return Self.noOpinion("")
        }
    }

    private func pod(_ node: String, _ attributes: AuthorizationAttributes) async -> AuthorizationDecision {
        switch (attributes.subresource, attributes.verb) {
        case ("", "get"):
            return await related(node, .pod, attributes)
        case ("", "list"), ("", "watch"):
            if FieldSelectorTerms(attributes.fieldSelector).equals("spec.nodeName") == node { return Self.allow }
            if !attributes.name.isEmpty { return await related(node, .pod, attributes) }
            return Self.noOpinion("can only list/watch pods with spec.nodeName field selector")
        case ("", "delete"), ("eviction", "create"):
            // NodeRestriction's rule, decided here: only pods bound to the node.
            return await related(node, .pod, attributes)
        case ("", "create"), ("status", "update"), ("status", "patch"):
            return Self.allow
        default:
            return Self.noOpinion("")
        }
    }
}

/// The equality terms of a field selector (`a=b,c==d`), enough for the node authorizer.
struct FieldSelectorTerms {
    var terms: [(field: String, value: String)] = []

    init(_ selector: String) {
        for term in selector.split(separator: ",") where !term.contains("!=") {
            let parts = term.replacingOccurrences(of: "==", with: "=").split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            if parts.count == 2 { terms.append((parts[0].trimmingCharacters(in: .whitespaces), parts[1].trimmingCharacters(in: .whitespaces))) }
        }
    }

    /// The value the selector requires `field` to equal, if it does.
    func equals(_ field: String) -> String? { terms.first { $0.field == field }?.value }
}
