/// How a ``KineStore`` behaves.
public struct KineOptions: Sendable {
    /// How writes are grouped into transactions.
    public var commitMode: CommitMode = .group()
    /// How often automatic compaction runs; `nil` turns it off.
    public var compactionInterval: Duration? = .seconds(300)
    /// Which history each automatic compaction round removes.
    public var compactionPolicy: any CompactionPolicy = RetainRevisions(1_000)
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
