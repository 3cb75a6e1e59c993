/// How a ``KineStore`` behaves.
public struct KineOptions: Sendable {
    /// How writes are grouped into transactions.
    public var commitMode: CommitMode = .group()
    /// How often automatic compaction runs; `nil` turns it off.
    public var compactionInterval: Duration? = .seconds(300)
    /// Which history each automatic compaction round removes.
    public var compactionPolicy: any CompactionPolicy = RetainRevisions(1_000)
    /// Also run a round as soon as the newest revision is more than this many past the
    /// compacted one (looked at every ``compactionCheckInterval``), so that history stays
    /// bounded at any write rate; `nil` leaves rounds to ``compactionInterval`` alone.
    /// On dqlite the database lives in every node's memory and each Raft snapshot copies
    /// it: five minutes of history at 3,000 writes/s grew a node by 1.5 GB.
    public var compactionRevisionBudget: Int64? = nil
    /// How often the revision budget is looked at.
    public var compactionCheckInterval: Duration = .seconds(5)
    /// How often expired leases are looked for.
    public var leaseCheckInterval: Duration = .milliseconds(250)
    /// The most change batches buffered for one watcher before it is dropped as too slow.
    public var watchBufferLimit: Int = 16_384

    /// How often to look for changes written by other processes sharing the database (the
    /// other members of a replicated cluster); `nil` when this process is the only writer.
    /// With other writers, leases are also not renewed at start (the database never stopped).
    public var peerPollInterval: Duration? = nil

    /// How this member and the other members of a cluster tell each other about commits;
    /// `nil` when there are none (or to rely on ``peerPollInterval`` alone).
    public var peerSignal: (any PeerChangeSignal)? = nil

    public init() {}
}
