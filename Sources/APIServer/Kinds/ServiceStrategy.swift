/// Services: DNS-1035 names, type and session affinity defaults, empty load balancer status.
struct ServiceStrategy: ResourceStrategy {
    /// Cluster IPs and node ports (none in tests that need no addresses).
    let addresses: ServiceAddressAllocator?
    /// Reaches endpoints (`services/NAME/proxy`).
    var relay: BackendRelay? = nil

    func subresource(_ name: String) -> (any SubresourceHandler)? {
        name == "proxy" ? ProxySubresource(target: .service, relay: relay) : nil
    }

    func prepareForCreate(_ object: inout JSON) {
        object["status"] = ["loadBalancer": .emptyObject]
        var spec = object["spec"] ?? .emptyObject
        if spec["type"] == nil { spec["type"] = "ClusterIP" }
        if spec["sessionAffinity"] == nil { spec["sessionAffinity"] = "None" }
        if spec["internalTrafficPolicy"] == nil { spec["internalTrafficPolicy"] = "Cluster" }
        if let ports = spec["ports"]?.arrayValue {
            spec["ports"] = .array(ports.map { port in
                var p = port
                if p["protocol"] == nil { p["protocol"] = "TCP" }
                if p["targetPort"] == nil { p["targetPort"] = p["port"] }
                return p
            })
        }
        object["spec"] = spec
    }

    /// The allocated addresses stay: an update that leaves them out keeps them.
    func prepareForUpdate(_ object: inout JSON, old: JSON) {
        object["status"] = old["status"]
        for field in ["clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy"] where object[path: ["spec", field]] == nil {
            object[path: ["spec", field]] = old[path: ["spec", field]]
        }
        if let ports = object[path: ["spec", "ports"]]?.arrayValue, let oldPorts = old[path: ["spec", "ports"]]?.arrayValue {
            object[path: ["spec", "ports"]] = .array(ports.map { port in
                var p = port
                if p["nodePort"] == nil, let match = oldPorts.first(where: { $0["port"] == port["port"] }) {
                    p["nodePort"] = match["nodePort"]
                }
                return p
            })
        }
    }

    func nameErrors(_ name: String) -> [String] { NameValidation.dns1035LabelErrors(name) }

    var selectableFields: [String] { ["spec.clusterIP", "spec.type"] }

    var returnsDeletedObject: Bool { true }

    /// A cluster IP, once set, stays.
    func validate(_ object: JSON, old: JSON?) -> [StatusError.Cause] {
        guard let ip = old?[path: ["spec", "clusterIP"]]?.stringValue, !ip.isEmpty,
              let wanted = object[path: ["spec", "clusterIP"]]?.stringValue, wanted != ip else { return [] }
        return [.init(field: "spec.clusterIPs[0]", message: "Invalid value: \"\(wanted)\": may not change once set")]
    }

    /// The cluster IP and node ports come from the allocator, and go back to it.
    func acquire(for object: inout JSON) async throws { try await addresses?.allocate(&object) }
    func release(of object: JSON) async throws { try await addresses?.release(object) }

    var table: TablePrinter {
        TablePrinter(columns: [.name, .field("Type", ["spec", "type"]), .field("Cluster-IP", ["spec", "clusterIP"]),
                               TableColumn("External-IP") { object in
                                   let ips = (object[path: ["spec", "externalIPs"]]?.arrayValue ?? []).compactMap(\.stringValue)
                                   return .string(ips.isEmpty ? "<none>" : ips.joined(separator: ","))
                               },
                               TableColumn("Port(s)") { object in
                                   let ports = (object[path: ["spec", "ports"]]?.arrayValue ?? []).map { port -> String in
                                       let number = port["port"]?.intValue ?? 0
                                       let proto = port["protocol"]?.stringValue ?? "TCP"
                                       if let node = port["nodePort"]?.intValue { return "\(number):\(node)/\(proto)" }
                                       return "\(number)/\(proto)"
                                   }
                                   return .string(ports.isEmpty ? "<none>" : ports.joined(separator: ","))
                               }, .age,
                               TableColumn("Selector", priority: 1) { object in
                                   let selector = object[path: ["spec", "selector"]]?.objectValue ?? [:]
                                   return .string(selector.isEmpty ? "<none>" : selector.sorted { $0.key < $1.key }
                                       .map { "\($0.key)=\($0.value.stringValue ?? "")" }.joined(separator: ","))
                               }])
    }
}
