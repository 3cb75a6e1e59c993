import Storage

/// One row of the log, decoded.
///
/// A put row holds the new value. A tombstone (`deleted`) holds no value and, in `version`,
/// the version the key had when it was deleted. Neither stores the value it replaced: that
/// is the previous row's (`prevID`), which a row carries as ``previous`` when it was just
/// written or read with ``KineSQL/eventColumns``.
struct KineRow: Sendable, Hashable {
    /// What a change replaced: the value and lease of the key's previous row.
    struct Previous: Sendable, Hashable {
        var value: [UInt8]
        var lease: Int64
    }

    var id: Int64
    var name: [UInt8]
    var created: Bool
    var deleted: Bool
    var createRevision: Int64
    /// The id of the key's previous row, 0 if none.
    var prevID: Int64
    var lease: Int64
    var value: [UInt8]
    var version: Int64
    /// The previous row's value and lease, when known: `nil` for a row read without them,
    /// for one that created its key, and once the previous row has been compacted away.
    var previous: Previous?

    init(id: Int64, name: [UInt8], created: Bool, deleted: Bool, createRevision: Int64, prevID: Int64,
         lease: Int64, value: [UInt8], version: Int64, previous: Previous?) {
        self.id = id
        self.name = name
        self.created = created
        self.deleted = deleted
        self.createRevision = createRevision
        self.prevID = prevID
        self.lease = lease
        self.value = value
        self.version = version
        self.previous = previous
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
        version = row.int(8)
        previous = nil
    }

    /// Decodes a row selected with ``KineSQL/eventColumns``: the row, then its previous row's
    /// id (NULL when there is none left), value and lease.
    init(event row: SQLRow) {
        self.init(row)
        let count = KineSQL.columnCount
        if prevID != 0, row.int(count) == prevID {
            previous = Previous(value: row.bytes(count + 1) ?? [], lease: row.int(count + 2))
        }
    }

    /// The row's values in ``KineSQL/columns`` order.
    var parameters: [SQLValue] {
        [.integer(id), .blob(name), .integer(created ? 1 : 0), .integer(deleted ? 1 : 0), .integer(createRevision),
         .integer(prevID), .integer(lease), .blob(value), .integer(version)]
    }

    /// The revision of the change.
    var revision: Int64 { RowID.revision(id) }

    /// The key as it stands after this row; `nil` for a tombstone.
    var keyValue: KeyValue? {
        deleted ? nil : KeyValue(key: name, value: value, createRevision: createRevision, modRevision: revision, version: version, lease: lease)
    }

    /// The key as it stood before this row, when it existed.
    var previousKeyValue: KeyValue? {
        guard !created, prevID != 0, let previous else { return nil }
        let previousVersion = deleted ? version : version - 1
        return KeyValue(key: name, value: previous.value, createRevision: createRevision, modRevision: RowID.revision(prevID),
                        version: previousVersion, lease: previous.lease)
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
