/// A log row's id: etcd's revision pair `(main, sub)` packed into one integer,
/// `main << 16 | sub`.
///
/// `main` is the store revision a change belongs to; `sub` orders the changes made at one
/// revision (an etcd transaction changes several keys at one revision). Rows therefore sort
/// by `(revision, sub)` on the primary key alone, and "the state at revision R" is every row
/// with `id <= last(of: R)`.
enum RowID {
    static let subBits: Int64 = 16
    /// The most changes one revision can hold.
    static let maxChangesPerRevision: Int64 = 1 << subBits

    static func make(revision: Int64, sub: Int64) -> Int64 { revision << subBits | sub }
    /// The revision a row id belongs to.
    static func revision(_ id: Int64) -> Int64 { id >> subBits }
    /// The smallest row id of a revision.
    static func first(of revision: Int64) -> Int64 { revision << subBits }
    /// The largest row id of a revision.
    static func last(of revision: Int64) -> Int64 { revision << subBits | (maxChangesPerRevision - 1) }
}
