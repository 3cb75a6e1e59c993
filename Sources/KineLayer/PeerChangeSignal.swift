/// How the members of a replicated cluster tell each other that they committed changes, so
/// that each member's watches read another member's writes at once instead of at their next
/// poll (``KineOptions/peerPollInterval``, which stays as the fallback for lost signals).
///
/// A signal is only a hint: a member that hears one reads what is new from the database,
/// which is the only source of changes. A forged or repeated signal therefore costs at most
/// one read of the newest revision, and signals heard while a read is pending are merged.
public protocol PeerChangeSignal: Sendable {
    /// This member committed changes up to `revision`. Called on the committer's thread:
    /// it must not block.
    func committed(revision: Int64)

    /// Calls `heard` with every revision another member says it committed, until the task
    /// is cancelled.
    func listen(_ heard: @escaping @Sendable (Int64) -> Void) async
}
