/// A key used as a dictionary or set key, hashed as one block of bytes. (`[UInt8]` hashes
/// one byte at a time, which showed in profiles of large write batches.)
struct HashedKey: Hashable {
    let bytes: [UInt8]

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    func hash(into hasher: inout Hasher) {
        bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
    }

    static func == (a: HashedKey, b: HashedKey) -> Bool { a.bytes == b.bytes }
}
