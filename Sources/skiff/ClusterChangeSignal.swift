import Cluster
import KineLayer

/// The store's ``PeerChangeSignal`` on a dqlite cluster: commit hints over UDP between the
/// members (``PeerHints``), whose member list is read again every few seconds.
struct ClusterChangeSignal: PeerChangeSignal {
    let hints: PeerHints
    var refreshInterval: Duration = .seconds(2)

    func committed(revision: Int64) { hints.announce(revision) }

    func listen(_ heard: @escaping @Sendable (Int64) -> Void) async {
        await withDiscardingTaskGroup { group in
            group.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: refreshInterval)
                    hints.refreshPeers()
                }
            }
            for await revision in hints.heard { heard(revision) }
            group.cancelAll()
        }
    }
}
