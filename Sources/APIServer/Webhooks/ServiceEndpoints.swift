/// Finds where a Service's port is served without kube-proxy: a ready endpoint of the
/// Service's EndpointSlices (label `kubernetes.io/service-name`), on the slice port named
/// as the Service port, or of its Endpoints when it has no slices.
struct ServiceEndpoints: Sendable {
    /// Why no endpoint can be given (in the words callers put after their own context).
    struct Unreachable: Error, CustomStringConvertible {
        let reason: String
        var description: String { reason }
    }

    /// At most this many slices of one Service are decoded (the namespace's other slices are
    /// still read from the store: it has no index by label).
    static let sliceLimit = 1000
    let store: any ObjectStore
    /// What was found before, until the namespace's Services or endpoints change.
    var cache: EndpointCache? = nil

    /// A ready address and its port for the Service port numbered `port`.
    func readyEndpoint(namespace: String, service name: String, port: Int) async throws -> (address: String, port: Int) {
        let key = EndpointCache.key(namespace: namespace, service: name, port: port)
        let (kept, generation) = cache?.lookup(key, namespace: namespace) ?? (nil, nil)
        if let kept, let chosen = kept.randomElement() { return chosen }
        let candidates = try await read(namespace: namespace, service: name, port: port)
        guard let chosen = candidates.randomElement() else {
            throw Unreachable(reason: "no endpoints available for service \"\(name)\"")
        }
        if let generation { cache?.keep(key, namespace: namespace, candidates: candidates, generation: generation) }
        return chosen
    }

    /// Every ready address of the Service port, from the store.
    private func read(namespace: String, service name: String, port: Int) async throws -> [(address: String, port: Int)] {
        let serviceKey = RegistryKey(group: "", resource: "services", namespace: namespace, name: name).path
        guard let service = try await store.get(serviceKey)?.object else {
            throw Unreachable(reason: "service \"\(name)\" not found")
        }
        let ports = service[path: ["spec", "ports"]]?.arrayValue ?? []
        guard let servicePort = ports.first(where: { $0["port"]?.intValue == Int64(port) }) else {
            throw Unreachable(reason: "service \"\(name)\" has no port \(port)")
        }
        let portName = servicePort["name"]?.stringValue ?? ""
        var candidates: [(address: String, port: Int)] = []
        var slices = 0
        try await store.forEach(prefix: RegistryKey.namespacePrefix(group: "discovery.k8s.io", resource: "endpointslices", namespace: namespace)) { entry in
            guard slices < Self.sliceLimit else { return }
            let slice = try entry.decoded()
            guard slice[path: ["metadata", "labels", "kubernetes.io/service-name"]]?.stringValue == name else { return }
            slices += 1
            guard let number = (slice["ports"]?.arrayValue ?? []).first(where: { ($0["name"]?.stringValue ?? "") == portName })?["port"]?.intValue,
                  (1...65535).contains(number) else { return }
            for endpoint in slice["endpoints"]?.arrayValue ?? [] where endpoint[path: ["conditions", "ready"]]?.boolValue != false {
                for address in (endpoint["addresses"]?.arrayValue ?? []).compactMap(\.stringValue) where !address.isEmpty {
                    candidates.append((address, Int(number)))
                }
            }
        }
        if slices == 0 {
            let endpointsKey = RegistryKey(group: "", resource: "endpoints", namespace: namespace, name: name).path
            for subset in try await store.get(endpointsKey)?.object["subsets"]?.arrayValue ?? [] {
                guard let number = (subset["ports"]?.arrayValue ?? []).first(where: { ($0["name"]?.stringValue ?? "") == portName })?["port"]?.intValue,
                      (1...65535).contains(number) else { continue }
                for address in (subset["addresses"]?.arrayValue ?? []).compactMap({ $0["ip"]?.stringValue }) where !address.isEmpty {
                    candidates.append((address, Int(number)))
                }
            }
        }
        return candidates
    }
}
