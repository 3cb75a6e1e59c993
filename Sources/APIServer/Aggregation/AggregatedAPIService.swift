import Crypto
import Foundation

/// An APIService (`apiregistration.k8s.io/v1`) as the aggregator uses it: the group version
/// it names, and where it is served — by this server (`service` nil, a "local" APIService)
/// or by the Service of an aggregated API server.
struct AggregatedAPIService: Sendable, Equatable {
    /// Where an aggregated API server is reached: a Service's port.
    struct ServiceReference: Sendable, Equatable {
        var namespace: String
        var name: String
        var port: Int
    }

    var name: String
    var group: String
    var version: String
    var service: ServiceReference?
    /// The PEM the server's certificate must chain to (nil: the system roots).
    var caBundle: String?
    var insecureSkipTLSVerify: Bool
    var groupPriorityMinimum: Int
    var versionPriority: Int
    /// The `Available` condition as the object holds it (nil: none yet).
    var condition: AvailableCondition?
    /// Labelled `kube-aggregator.kubernetes.io/automanaged: true`: registered for a custom
    /// resource's group version, and removed with it.
    var automanagedForCustomResource: Bool
    /// Identifies how the server is dialled (the name, the caBundle, insecure or not), for
    /// keeping connections: computed once per change of the object, not per request.
    var transportKey: String

    /// The `Available` condition's status, reason and message.
    struct AvailableCondition: Sendable, Equatable {
        var status: String
        var reason: String
        var message: String
    }

    /// Whether the `Available` condition is `True`.
    var available: Bool { condition?.status == "True" }

    /// Reads an APIService object; nil when it lacks a group version or its service is
    /// incomplete (validation refuses both, so only a damaged object is skipped).
    init?(_ object: JSON) {
        guard let name = object[path: ["metadata", "name"]]?.stringValue,
              let version = object[path: ["spec", "version"]]?.stringValue, !version.isEmpty else { return nil }
        self.name = name
        self.version = version
        group = object[path: ["spec", "group"]]?.stringValue ?? ""
        if let service = object[path: ["spec", "service"]], service != .null {
            guard let namespace = service["namespace"]?.stringValue, let serviceName = service["name"]?.stringValue,
                  !namespace.isEmpty, !serviceName.isEmpty else { return nil }
            let port = Int(service["port"]?.intValue ?? 443)
            guard (1...65535).contains(port) else { return nil }
            self.service = ServiceReference(namespace: namespace, name: serviceName, port: port)
        } else {
            service = nil
        }
        caBundle = object[path: ["spec", "caBundle"]]?.stringValue
            .flatMap { Data(base64Encoded: $0) }.map { String(decoding: $0, as: UTF8.self) }
            .flatMap { $0.isEmpty ? nil : $0 }
        insecureSkipTLSVerify = object[path: ["spec", "insecureSkipTLSVerify"]]?.boolValue ?? false
        groupPriorityMinimum = Int(object[path: ["spec", "groupPriorityMinimum"]]?.intValue ?? 0)
        versionPriority = Int(object[path: ["spec", "versionPriority"]]?.intValue ?? 0)
        condition = Self.availableCondition(of: object).map { found in
            AvailableCondition(status: found["status"]?.stringValue ?? "", reason: found["reason"]?.stringValue ?? "",
                               message: found["message"]?.stringValue ?? "")
        }
        automanagedForCustomResource = object[path: ["metadata", "labels", LocalAPIServices.automanaged]]?.stringValue == "true"
        // The bundle's digest, not its hashValue: two bundles must never share a transport.
        let bundleDigest = caBundle.map { SHA256.hash(data: Array($0.utf8)).map { String(format: "%02x", $0) }.joined() } ?? "-"
        transportKey = "\(name)|\(bundleDigest)|\(insecureSkipTLSVerify)"
    }

    /// The `Available` condition of an APIService object's status.
    static func availableCondition(of object: JSON) -> JSON? {
        object[path: ["status", "conditions"]]?.arrayValue?.first { $0["type"]?.stringValue == "Available" }
    }

    /// `VERSION.GROUP`, the name an APIService for `group`/`version` must have (`v1.` for the
    /// core group).
    static func name(group: String, version: String) -> String { version + "." + group }

    /// The path of its discovery document (`/apis/GROUP/VERSION`, `/api/v1` for the core group).
    var discoveryPath: String { group.isEmpty ? "/api/" + version : "/apis/\(group)/\(version)" }
}
