/// Where the kubelet of a node, or of a pod's node, listens, and which of a pod's containers
/// a request means: the checks kube-apiserver makes before it dials a kubelet for a pod's logs,
/// exec, attach or port forwarding.
enum KubeletLocator {
    /// A kubelet's address.
    struct Address: Sendable {
        var host: String
        var port: Int
        var text: String { BackendDialer.address(host, port) }
    }

    /// The node address types tried in order (kube-apiserver's `--kubelet-preferred-address-types`
    /// as kubeadm sets it: a node's own name is seldom resolvable in a small cluster).
    static let preferredAddressTypes = ["InternalIP", "ExternalIP", "Hostname", "InternalDNS", "ExternalDNS"]
    /// The kubelet port of a node that reports none.
    static let defaultPort = 10250

    /// The kubelet address of the named node; 404 when there is no such node.
    static func address(ofNode name: String, engine: ResourceEngine) async throws -> Address {
        guard let nodes = engine.catalog.resource(group: "", version: "v1", plural: "nodes") else {
            throw StatusError.internalError("the nodes resource is not served")
        }
        guard let stored = try await engine.store.get(nodes.key(namespace: nil, name: name)) else {
            throw StatusError.notFound(nodes, name: name)
        }
        return try address(of: stored.object, name: name)
    }

    /// The kubelet address a Node reports: its first address of the most preferred type, and
    /// `status.daemonEndpoints.kubeletEndpoint.Port`.
    static func address(of node: JSON, name: String) throws -> Address {
        let addresses = node[path: ["status", "addresses"]]?.arrayValue ?? []
        for type in preferredAddressTypes {
            if let match = addresses.first(where: { $0["type"]?.stringValue == type }),
               let host = match["address"]?.stringValue, !host.isEmpty {
                var port = Int(node[path: ["status", "daemonEndpoints", "kubeletEndpoint", "Port"]]?.intValue ?? 0)
                if port <= 0 || port > 65535 { port = defaultPort }
                return Address(host: host, port: port)
            }
        }
        let known = addresses.map { "{\($0["type"]?.stringValue ?? "") \($0["address"]?.stringValue ?? "")}" }
        throw StatusError.badRequest("no preferred addresses found for node \(name); known addresses: [\(known.joined(separator: " "))]")
    }

    /// The kubelet address of a pod's node: 400 when the pod is not bound to one.
    static func address(ofPod pod: JSON, name: String, engine: ResourceEngine) async throws -> Address {
        guard let node = pod[path: ["spec", "nodeName"]]?.stringValue, !node.isEmpty else {
            throw StatusError.badRequest("pod \(name) does not have a host assigned")
        }
        return try await address(ofNode: node, engine: engine)
    }

    /// The container a request names, or the pod's only container when it names none.
    static func container(_ requested: String?, of pod: JSON, name: String) throws -> String {
        let containers = names(pod, "containers")
        let all = containers + names(pod, "initContainers") + names(pod, "ephemeralContainers")
        guard let requested, !requested.isEmpty else {
            switch containers.count {
            case 1: return containers[0]
            case 0: throw StatusError.badRequest("a container name must be specified for pod \(name)")
            default:
                throw StatusError.badRequest("a container name must be specified for pod \(name), choose one of: [\(all.joined(separator: " "))]")
            }
        }
        guard all.contains(requested) else {
            throw StatusError.badRequest("container \(requested) is not valid for pod \(name)")
        }
        return requested
    }

    private static func names(_ pod: JSON, _ field: String) -> [String] {
        (pod[path: ["spec", field]]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
    }
}
