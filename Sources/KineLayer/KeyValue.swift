/// A key and its value as stored at one revision, with etcd's bookkeeping fields.
public struct KeyValue: Sendable, Hashable {
    /// The key's bytes.
    public var key: [UInt8]
    /// The value's bytes.
    public var value: [UInt8]
    /// The revision at which the key was (last) created.
    public var createRevision: Int64
    /// The revision of this value: the key's mod revision.
    public var modRevision: Int64
    /// How many times the key was written since it was created (1 after creation).
    public var version: Int64
    /// The lease the key is attached to, 0 for none.
    public var lease: Int64

    public init(key: [UInt8], value: [UInt8], createRevision: Int64, modRevision: Int64, version: Int64, lease: Int64) {
        self.key = key
        self.value = value
        self.createRevision = createRevision
        self.modRevision = modRevision
        self.version = version
        self.lease = lease
    }

    /// The key as UTF-8 text.
    public var keyString: String { String(decoding: key, as: UTF8.self) }
    /// The value as UTF-8 text.
    public var valueString: String { String(decoding: value, as: UTF8.self) }
}

extension Array where Element == UInt8 {
    /// The UTF-8 bytes of `string`.
    @inlinable
    public init(key string: String) { self = Array(string.utf8) }
}
