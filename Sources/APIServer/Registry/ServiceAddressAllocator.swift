import Foundation

/// Hands out Service cluster IPs (from `--service-cluster-ip-range`, default 10.96.0.0/12)
/// and node ports (30000-32767) without duplicates, also under concurrent creates on any
/// node: an address is taken by creating its key under `/registry/skiff/` in the log, which
/// only one writer can do. An allocation whose Service is gone (deleted with its namespace, or
/// by a crash between the two writes) is taken over.
public struct ServiceAddressAllocator: Sendable {
    let store: any ObjectStore
    /// The IPv4 range, as a base address and a size.
    let base: UInt32
    let size: UInt32
    /// The range as `--service-cluster-ip-range` names it, normalized (`10.96.0.0/12`).
    public let cidr: String
    static let nodePorts: ClosedRange<Int> = 30000...32767

    public init(store: any ObjectStore, range: String) throws {
        let parts = range.split(separator: "/")
        guard parts.count == 2, let bits = Int(parts[1]), (8...30).contains(bits),
              let address = IPAddressBytes(String(parts[0])), address.bytes.count == 4 else {
            throw StatusError.badRequest("--service-cluster-ip-range must be an IPv4 CIDR such as 10.96.0.0/12, not \(range)")
        }
        let value = address.bytes.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        let mask: UInt32 = bits == 0 ? 0 : ~UInt32(0) << (32 - bits)
        self.store = store
        base = value & mask
        size = ~mask &+ 1
        cidr = "\(Self.text(value & mask))/\(bits)"
    }

    /// The first address of the range: the `kubernetes` Service's.
    public var apiServerIP: String { Self.text(base + 1) }

    static func text(_ value: UInt32) -> String {
        "\(value >> 24).\(value >> 16 & 0xFF).\(value >> 8 & 0xFF).\(value & 0xFF)"
    }

    static func ipKey(_ ip: String) -> String { "/registry/skiff/serviceips/" + ip }
    static func ipAddressKey(_ ip: String) -> String {
        RegistryKey(group: "networking.k8s.io", resource: "ipaddresses", namespace: nil, name: ip).path
    }
    static func portKey(_ port: Int) -> String { "/registry/skiff/nodeports/" + String(port) }

    struct Owner: Equatable {
        var namespace: String
        var name: String
        var uid: String
        var json: JSON { ["namespace": .string(namespace), "name": .string(name), "uid": .string(uid)] }
    }

    /// Takes `key` for `owner`; false if a live Service holds it.
    private func take(_ key: String, for owner: Owner) async throws -> Bool {
        if try await store.create(key, owner.json) != nil { return true }
        guard let current = try await store.get(key) else { return try await take(key, for: owner) }
        let holder = Owner(namespace: current.object["namespace"]?.stringValue ?? "", name: current.object["name"]?.stringValue ?? "",
                           uid: current.object["uid"]?.stringValue ?? "")
        if holder == owner { return true }
        let serviceKey = RegistryKey(group: "", resource: "services", namespace: holder.namespace, name: holder.name).path
        if let service = try await store.get(serviceKey), service.object[path: ["metadata", "uid"]]?.stringValue == holder.uid {
            return false
        }
        if case .written = try await store.update(key, owner.json, expectedRevision: current.modRevision) { return true }
        return false
    }

    /// Fills in and reserves the cluster IP and node ports of a new Service; 422 for a
    /// requested address that is taken or out of range.
    public func allocate(_ service: inout JSON) async throws {
        let owner = Owner(namespace: service[path: ["metadata", "namespace"]]?.stringValue ?? "",
                          name: service[path: ["metadata", "name"]]?.stringValue ?? "",
                          uid: service[path: ["metadata", "uid"]]?.stringValue ?? "")
        let type = service[path: ["spec", "type"]]?.stringValue ?? "ClusterIP"
        func invalid(_ field: String, _ message: String) -> StatusError {
            StatusError.invalid(kind: "Service", group: "", name: owner.name, causes: [.init(field: field, message: message)])
        }
        if type != "ExternalName" {
            let requested = service[path: ["spec", "clusterIP"]]?.stringValue ?? ""
            if requested == "None" {
                service[path: ["spec", "clusterIPs"]] = ["None"]
            } else {
                let ip: String
                if requested.isEmpty {
                    ip = try await freeIP(for: owner)
                } else {
                    guard let bytes = IPAddressBytes(requested)?.bytes, bytes.count == 4,
                          case let value = bytes.reduce(UInt32(0), { $0 << 8 | UInt32($1) }),
                          value > base, value < base &+ size &- 1 else {
                        throw invalid("spec.clusterIPs", "Invalid value: \"\(requested)\": failed to allocate IP \(requested): the provided IP (\(requested)) is not in the valid range")
                    }
                    guard try await take(Self.ipKey(requested), for: owner) else {
                        throw invalid("spec.clusterIPs", "Invalid value: [\"\(requested)\"]: failed to allocate IP \(requested): provided IP is already allocated")
                    }
                    ip = requested
                }
                try await publishIPAddress(ip, for: owner)
                service[path: ["spec", "clusterIP"]] = .string(ip)
                service[path: ["spec", "clusterIPs"]] = [.string(ip)]
                service[path: ["spec", "ipFamilies"]] = ["IPv4"]
                service[path: ["spec", "ipFamilyPolicy"]] = "SingleStack"
            }
        }
        guard type == "NodePort" || type == "LoadBalancer", var ports = service[path: ["spec", "ports"]]?.arrayValue else { return }
        for index in ports.indices {
            if let wanted = ports[index]["nodePort"]?.intValue, wanted != 0 {
                guard Self.nodePorts.contains(Int(wanted)) else {
                    throw invalid("spec.ports[\(index)].nodePort", "Invalid value: \(wanted): provided port is not in the valid range. The range of valid ports is 30000-32767")
                }
                guard try await take(Self.portKey(Int(wanted)), for: owner) else {
                    throw invalid("spec.ports[\(index)].nodePort", "Invalid value: \(wanted): provided port is already allocated")
                }
            } else {
                ports[index]["nodePort"] = .int(Int64(try await freePort(for: owner)))
            }
        }
        service[path: ["spec", "ports"]] = .array(ports)
        if service[path: ["spec", "externalTrafficPolicy"]] == nil { service[path: ["spec", "externalTrafficPolicy"]] = "Cluster" }
    }

    private func freeIP(for owner: Owner) async throws -> String {
        let usable = size - 3   // network, the kubernetes Service's .1, broadcast
        let start = UInt32.random(in: 0..<usable)
        for step in 0..<min(usable, 4096) {
            let candidate = Self.text(base + 2 + (start + step) % usable)
            if try await take(Self.ipKey(candidate), for: owner) { return candidate }
        }
        throw StatusError.internalError("no free cluster IP found in the service range")
    }

    private func freePort(for owner: Owner) async throws -> Int {
        let count = Self.nodePorts.count
        let start = Int.random(in: 0..<count)
        for step in 0..<count {
            let candidate = Self.nodePorts.lowerBound + (start + step) % count
            if try await take(Self.portKey(candidate), for: owner) { return candidate }
        }
        throw StatusError.internalError("no free node port left")
    }

    /// The `networking.k8s.io/v1` IPAddress object of an allocated cluster IP, naming its
    /// Service, as kube-apiserver's allocator keeps one per address.
    func publishIPAddress(_ ip: String, for owner: Owner) async throws {
        let key = Self.ipAddressKey(ip)
        var object = JSON.newObject(apiVersion: "networking.k8s.io/v1", kind: "IPAddress", name: ip,
                                    labels: ["ipaddress.kubernetes.io/ip-family": "IPv4",
                                             "ipaddress.kubernetes.io/managed-by": "ipallocator.k8s.io"])
        object["spec"] = ["parentRef": ["group": "", "resource": "services", "namespace": .string(owner.namespace),
                                        "name": .string(owner.name)]]
        for _ in 0..<3 {
            if try await store.create(key, object) != nil { return }
            guard let current = try await store.get(key) else { continue }
            if current.object["spec"] == object["spec"] { return }
            if case .written = try await store.update(key, object, expectedRevision: current.modRevision) { return }
        }
    }

    /// Gives back what a deleted Service held.
    public func release(_ service: JSON) async throws {
        var keys: [String] = []
        if let ip = service[path: ["spec", "clusterIP"]]?.stringValue, !ip.isEmpty, ip != "None" {
            keys.append(Self.ipKey(ip))
            let key = Self.ipAddressKey(ip)
            if let current = try await store.get(key),
               current.object[path: ["spec", "parentRef", "name"]]?.stringValue == service[path: ["metadata", "name"]]?.stringValue,
               current.object[path: ["spec", "parentRef", "namespace"]]?.stringValue == service[path: ["metadata", "namespace"]]?.stringValue {
                // A conflict: the record was written since (taken again); that write stands.
                _ = try await store.delete(key, expectedRevision: current.modRevision)
            }
        }
        for port in service[path: ["spec", "ports"]]?.arrayValue ?? [] {
            if let nodePort = port["nodePort"]?.intValue { keys.append(Self.portKey(Int(nodePort))) }
        }
        let uid = service[path: ["metadata", "uid"]]?.stringValue
        for key in keys {
            if let current = try await store.get(key), current.object["uid"]?.stringValue == uid {
                // A conflict: the record was written since (taken again); that write stands.
                _ = try await store.delete(key, expectedRevision: current.modRevision)
            }
        }
    }
}
