/// How the members of a replicated cluster tell each other that they committed changes, so
/// that each member's watches get another member's writes at once instead of at their next
/// poll (``KineOptions/peerPollInterval``, which stays as the fallback for lost signals).
///
/// What is heard is either the changes themselves, from a member the signal has
/// authenticated, or only a revision: a hint, after which the member reads what is new from
/// the database. A hint grants nothing, so a forged or repeated one costs at most one read.
public protocol PeerChangeSignal: Sendable {
    /// This member committed `events` (in revision order). Called on the committer's
    /// thread: it must not block.
    func committed(_ events: [Event])

    /// Calls `heard` with what other members say they committed, until the task is
    /// cancelled.
    func listen(_ heard: @escaping @Sendable (PeerChange) -> Void) async
}

/// What another member said it committed.
public enum PeerChange: Sendable {
    /// The changes of one commit, authenticated as coming from a member.
    case events([Event])
    /// Only that changes up to this revision exist.
    case revision(Int64)
}
