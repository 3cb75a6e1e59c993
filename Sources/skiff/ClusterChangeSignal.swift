import Cluster
import KineLayer

/// The store's ``PeerChangeSignal`` on a dqlite cluster: commit announcements over UDP
/// between the members (``PeerHints``), with the changes encoded by ``EventCodec``; the
/// member list is read again every few seconds.
struct ClusterChangeSignal: PeerChangeSignal {
    let hints: PeerHints
    var refreshInterval: Duration = .seconds(2)

    func committed(_ events: [Event]) {
        guard let last = events.last?.revision else { return }
        // Changes too large for one datagram go as the hint alone: not encoded at all.
        let fits = EventCodec.encodedSize(events) <= PeerHints.maxPayload
        hints.announce(last, payload: fits ? EventCodec.encode(events) : nil)
    }

    func listen(_ heard: @escaping @Sendable (PeerChange) -> Void) async {
        await withDiscardingTaskGroup { group in
            group.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: refreshInterval)
                    hints.refreshPeers()
                }
            }
            for await announcement in hints.heard {
                // Changes that do not decode, or that end elsewhere than announced, are
                // taken as a hint only.
                if let payload = announcement.payload, let events = EventCodec.decode(payload),
                   events.last?.revision == announcement.revision {
                    heard(.events(events))
                } else {
                    heard(.revision(announcement.revision))
                }
            }
            group.cancelAll()
        }
    }
}
