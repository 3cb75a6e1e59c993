import Storage

/// One row of the log, decoded.
///
/// A put row holds the new value and, in `old_value`, the value it replaced. A tombstone
/// (`deleted`) holds the deleted value in `old_value` and, in `version`, the version the key
/// had when it was deleted.
struct KineRow: Sendable, Hashable {
    var id: Int64
    var name: [UInt8]
    var created: Bool
    var deleted: Bool
    var createRevision: Int64
    /// The id of the key's previous row, 0 if none.
    var prevID: Int64
    var lease: Int64
    var value: [UInt8]
    var oldValue: [UInt8]
    var version: Int64

    init(id: Int64, name: [UInt8], created: Bool, deleted: Bool, createRevision: Int64, prevID: Int64,
         lease: Int64, value: [UInt8], oldValue: [UInt8], version: Int64) {
        self.id = id
        self.name = name
        self.created = created
        self.deleted = deleted
        self.createRevision = createRevision
        self.prevID = prevID
        self.lease = lease
        self.value = value
        self.oldValue = oldValue
        self.version = version
    }

    /// Decodes a row selected with ``KineSQL/columns``.
    init(_ row: SQLRow) {
        id = row.int(0)
        name = row.bytes(1) ?? []
        created = row.int(2) != 0
        deleted = row.int(3) != 0
        createRevision = row.int(4)
        prevID = row.int(5)
        lease = row.int(6)
        value = row.bytes(7) ?? []
        oldValue = row.bytes(8) ?? []
        version = row.int(9)
    }

    /// The row's values in ``KineSQL/columns`` order.
    var parameters: [SQLValue] {
        [.integer(id), .blob(name), .integer(created ? 1 : 0), .integer(deleted ? 1 : 0), .integer(createRevision),
         .integer(prevID), .integer(lease), .blob(value), .blob(oldValue), .integer(version)]
    }

    /// The revision of the change.
    var revision: Int64 { RowID.revision(id) }

    /// The key as it stands after this row; `nil` for a tombstone.
    var keyValue: KeyValue? {
        deleted ? nil : KeyValue(key: name, value: value, createRevision: createRevision, modRevision: revision, version: version, lease: lease)
    }

    /// The key as it stood before this row, when it existed.
    var previousKeyValue: KeyValue? {
        if created || prevID == 0 { return nil }
        let previousVersion = deleted ? version : version - 1
        return KeyValue(key: name, value: oldValue, createRevision: createRevision, modRevision: RowID.revision(prevID),
                        version: previousVersion, lease: 0)
    }

    /// The change this row records.
    var event: Event {
        if deleted {
            return Event(kind: .delete,
                         kv: KeyValue(key: name, value: [], createRevision: 0, modRevision: revision, version: 0, lease: 0),
                         prevKV: previousKeyValue)
        }
        return Event(kind: .put, kv: keyValue!, prevKV: previousKeyValue)
    }
}
