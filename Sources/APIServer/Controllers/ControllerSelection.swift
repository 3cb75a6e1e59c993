import Foundation

/// Which of Skiff's control loops run, chosen with kube-controller-manager's `--controllers`
/// syntax: a comma-separated list where `*` turns on every loop, `name` turns one on and
/// `-name` turns one off (`*,-garbagecollector` runs all but the garbage collector). A real
/// kube-controller-manager beside Skiff runs the same loops under the same names, so the
/// ones it runs are switched off here.
///
/// Names are kube-controller-manager's, with or without its `-controller` suffix. Skiff's
/// service account loop also publishes `kube-root-ca.crt`: it answers to `serviceaccount` and
/// to `root-ca-certificate-publisher` (`root-ca-cert-publisher`), and runs while either is on.
/// Names of kube-controller-manager's other controllers are accepted and change nothing;
/// an unknown name is refused. `none` (Skiff's own word) runs no loop: every loop of Skiff's
/// is then kube-controller-manager's to run.
public struct ControllerSelection: Sendable, Hashable {
    /// Skiff's loops, by the name they answer to.
    public enum Loop: String, Sendable, CaseIterable {
        case serviceaccount, namespace, garbagecollector, clusterroleAggregation = "clusterrole-aggregation"
        case resourcequota, rootCACertPublisher = "root-ca-certificate-publisher"
        case certificateSigning = "certificatesigningrequest-signing"
    }

    private var enabled: Set<Loop>

    /// Every loop on.
    public static let all = ControllerSelection(enabled: Set(Loop.allCases))

    private init(enabled: Set<Loop>) { self.enabled = enabled }

    /// Parses a `--controllers` value; throws a message naming the first unknown entry.
    public init(parsing text: String) throws {
        var on = Set<Loop>()
        var starred = false
        var off = Set<Loop>()
        for raw in text.split(separator: ",", omittingEmptySubsequences: true) {
            let entry = raw.trimmingCharacters(in: .whitespaces)
            if entry == "*" { starred = true; continue }
            if entry == "none" { continue }
            let negated = entry.hasPrefix("-")
            let name = Self.canonical(negated ? String(entry.dropFirst()) : entry)
            guard Self.knownControllerNames.contains(name) || Loop(rawValue: name) != nil else {
                throw ControllerSelectionError(entry: entry)
            }
            guard let loop = Loop(rawValue: name) else { continue }
            if negated { off.insert(loop) } else { on.insert(loop) }
        }
        var chosen = starred ? Set(Loop.allCases) : []
        chosen.formUnion(on)
        chosen.subtract(off)
        enabled = chosen
    }

    /// Whether `loop` runs.
    public func runs(_ loop: Loop) -> Bool { enabled.contains(loop) }

    /// The service account loop runs while either of its names is on.
    public var runsServiceAccounts: Bool { runs(.serviceaccount) || runs(.rootCACertPublisher) }

    /// A name as kube-controller-manager spells it without its `-controller` suffix, with
    /// its older short forms mapped to the current ones.
    static func canonical(_ name: String) -> String {
        let base = name.hasSuffix("-controller") ? String(name.dropLast("-controller".count)) : name
        switch base {
        case "root-ca-cert-publisher": return Loop.rootCACertPublisher.rawValue
        case "garbage-collector": return Loop.garbagecollector.rawValue
        case "clusterrole-aggregator": return Loop.clusterroleAggregation.rawValue
        case "csrsigning": return Loop.certificateSigning.rawValue
        default: return base
        }
    }

    /// kube-controller-manager 1.35's controllers (short forms): accepted, and ignored when
    /// Skiff has no such loop.
    static let knownControllerNames: Set<String> = [
        "bootstrapsigner", "certificatesigningrequest-approving", "certificatesigningrequest-cleaner",
        "certificatesigningrequest-signing", "cloud-node-lifecycle", "clusterrole-aggregation", "cronjob", "csrapproving",
        "csrcleaner", "csrsigning", "daemonset", "deployment", "device-taint-eviction", "disruption", "endpoints",
        "endpoint", "endpointslice", "endpointslice-mirroring", "endpointslicemirroring", "ephemeral-volume",
        "garbagecollector", "horizontal-pod-autoscaler", "horizontalpodautoscaling", "job", "kube-apiserver-serving-clustertrustbundle-publisher",
        "legacy-serviceaccount-token-cleaner", "legacy-service-account-token-cleaner", "namespace", "node-ipam",
        "nodeipam", "node-lifecycle", "nodelifecycle", "node-route", "persistentvolume-attach-detach", "attachdetach",
        "persistentvolume-binder", "persistentvolume-expander", "persistentvolume-protection", "persistentvolumeclaim-protection",
        "pod-garbage-collector", "podgc", "pv-protection", "pvc-protection", "replicaset", "replicationcontroller",
        "resourceclaim", "resourcequota", "root-ca-certificate-publisher", "route", "selinux-warning", "service-lb", "service",
        "serviceaccount", "serviceaccount-token", "service-cidr", "statefulset", "storage-version-migrator",
        "taint-eviction", "token-cleaner", "tokencleaner", "ttl", "ttl-after-finished", "validatingadmissionpolicy-status",
        "volumeattributesclass-protection",
    ]
}

/// A `--controllers` entry that names no controller.
public struct ControllerSelectionError: Error, CustomStringConvertible {
    public var entry: String
    public var description: String { "\"\(entry)\" is not a known controller (kube-controller-manager's names, \"*\" or \"-name\")" }
}
