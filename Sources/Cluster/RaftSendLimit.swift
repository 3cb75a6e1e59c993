import CRaftSendLimit
import Logging

/// The node process's limit on the entry bytes of one Raft AppendEntries message (see
/// CRaftSendLimit's header). libraft 0.15 sends a member that is behind every entry it
/// misses in one message, and sends it again at every heartbeat until the member answers:
/// a member back from a few seconds away under load read gigabytes and grew by as many.
/// With the limit, each message carries at most `bytes` of entries (at least one entry),
/// and the member catches up over several smaller messages.
enum RaftSendLimit {
    /// The limit the node process sets: 16 MiB, more than ten of the largest transactions
    /// group commit makes (1 MiB of values, about 1.6 MiB of pages), and at 75 ms
    /// heartbeats far more than a member needs to catch up with writes arriving at the
    /// rate the leader's disk sustains.
    static let defaultBytes = 16 << 20

    /// Whether the executable exports its uv_write, so that libraft's calls reach the
    /// limit: false means the link step lost `--export-dynamic-symbol=uv_write`.
    static var interposed: Bool { skiff_raft_send_limit_interposed() != 0 }

    /// How many messages this process has cut.
    static var cuts: UInt64 { UInt64(skiff_raft_send_limit_cuts()) }

    /// Turns the limit on for this process; says so in the log, or warns when it cannot
    /// take effect.
    static func enable(bytes: Int = defaultBytes, logger: Logger) {
        skiff_raft_send_limit_set(bytes)
        if interposed {
            logger.info("raft AppendEntries messages carry at most \(bytes >> 20) MiB of entries")
        } else {
            logger.warning("libraft's uv_write is not interposed: a member that falls behind is sent every entry it misses at every heartbeat")
        }
    }

    /// Logs, every `interval` until cancelled, how many messages were cut since the last
    /// report, when any were.
    static func report(every interval: Duration, logger: Logger) async {
        var reported: UInt64 = 0
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            let now = cuts
            if now > reported {
                logger.info("raft: cut AppendEntries messages to a member that is behind", metadata: [
                    "messages": "\(now - reported)", "total": "\(now)"])
                reported = now
            }
        }
    }
}
