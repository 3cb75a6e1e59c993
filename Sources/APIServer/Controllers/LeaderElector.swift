import Foundation
import Logging
import Synchronization

/// Runs the control loops on one server at a time: the holder of the `skiff-controllers`
/// Lease (coordination.k8s.io/v1, in kube-system) runs them and renews the lease every
/// two seconds; the others watch it and take over when it has not changed for a lease
/// duration, as client-go's leader election does. Expiry is judged by each candidate's own
/// clock (how long since it saw the record change), not by comparing clocks across nodes.
/// A holder that cannot renew for a lease duration stops its loops.
public final class LeaderElector: Sendable {
    /// Reads.
    let store: any ObjectStore
    /// Writes, as `system:skiff:leader-election`.
    let client: LoopbackClient
    /// This server's identity; stable across restarts, so a restarted holder resumes at once.
    public let identity: String
    let logger: Logger
    let leaseDuration: Duration
    let renewInterval: Duration
    private let observed = Mutex<(revision: Int64, at: ContinuousClock.Instant)?>(nil)

    public static let leaseName = "skiff-controllers"
    static let key = RegistryKey(group: "coordination.k8s.io", resource: "leases", namespace: "kube-system", name: leaseName).path

    public init(store: any ObjectStore, client: LoopbackClient, identity: String, leaseDuration: Duration = .seconds(10),
                renewInterval: Duration = .seconds(2), logger: Logger) {
        self.store = store
        self.client = client
        self.identity = identity
        self.leaseDuration = leaseDuration
        self.renewInterval = renewInterval
        self.logger = logger
    }

    /// Runs `loops` whenever this server holds the lease, until cancelled.
    public func run(_ loops: [@Sendable () async -> Void]) async {
        while !Task.isCancelled {
            while !Task.isCancelled, await attempt() != .held { try? await Task.sleep(for: renewInterval) }
            if Task.isCancelled { return }
            logger.info("holding the controller lease; running the control loops", metadata: ["identity": "\(identity)"])
            await withTaskGroup(of: Void.self) { group in
                for loop in loops { group.addTask { await loop() } }
                group.addTask { await self.keepRenewing() }
                await group.next()
                group.cancelAll()
            }
            if !Task.isCancelled { logger.warning("lost the controller lease; the control loops stopped") }
        }
    }

    /// Renews until the lease is lost (someone else holds it, or renewing failed for a
    /// whole lease duration).
    private func keepRenewing() async {
        var lastRenewal = ContinuousClock.now
        while !Task.isCancelled {
            try? await Task.sleep(for: renewInterval)
            switch await attempt() {
            case .held: lastRenewal = .now
            case .heldByOther: return
            case .failed: if ContinuousClock.now - lastRenewal > leaseDuration { return }
            }
        }
    }

    /// What one try to take or renew the lease ended with.
    enum Attempt { case held, heldByOther, failed }

    /// One try to take or renew the lease.
    func attempt() async -> Attempt {
        do {
            let now = RFC3339.microString(Date())
            let seconds = Int64(leaseDuration.components.seconds)
            guard let current = try await store.get(Self.key) else {
                var lease = JSON.newObject(apiVersion: "coordination.k8s.io/v1", kind: "Lease", name: Self.leaseName, namespace: "kube-system")
                lease["spec"] = ["holderIdentity": .string(identity), "leaseDurationSeconds": .int(seconds),
                                 "acquireTime": .string(now), "renewTime": .string(now), "leaseTransitions": 0]
                return try await client.create(Self.key, lease) != nil ? .held : .failed
            }
            var lease = current.object
            let holder = lease[path: ["spec", "holderIdentity"]]?.stringValue
            if holder != identity {
                // Someone else's: it is free once it has not changed for a lease duration.
                let fresh = observed.withLock { seen -> Bool in
                    if seen?.revision != current.modRevision { seen = (current.modRevision, .now) }
                    return ContinuousClock.now - seen!.at < leaseDuration
                }
                if fresh && holder?.isEmpty == false { return .heldByOther }
                lease[path: ["spec", "acquireTime"]] = .string(now)
                let transitions = lease[path: ["spec", "leaseTransitions"]]?.intValue ?? 0
                lease[path: ["spec", "leaseTransitions"]] = .int(transitions == .max ? transitions : transitions + 1)
                logger.info("taking over the controller lease", metadata: ["from": "\(holder ?? "")"])
            }
            lease[path: ["spec", "holderIdentity"]] = .string(identity)
            lease[path: ["spec", "leaseDurationSeconds"]] = .int(seconds)
            lease[path: ["spec", "renewTime"]] = .string(now)
            if case .written = try await client.update(Self.key, lease, expectedRevision: current.modRevision) { return .held }
            return .failed
        } catch {
            logger.debug("controller lease: \(error)")
            return .failed
        }
    }
}
