/// Writes a database file in bbolt's format, the B+tree file etcd keeps its data in, so that
/// etcd's tools (`etcdctl snapshot status|restore`) read Skiff's snapshots.
///
/// Layout: pages 0 and 1 are meta pages, page 2 the (empty) freelist, then the buckets'
/// trees, written bottom-up: leaves packed up to a page, then branch levels over them.
/// A node larger than a page spans overflow pages. Every page is reachable, none is free.
struct BoltWriter {
    static let pageSize = 4096
    private static let pageHeaderSize = 16
    private static let elementSize = 16
    private static let magic: UInt32 = 0xED0C_DAED
    private static let version: UInt32 = 2

    private enum PageFlag: UInt16 {
        case branch = 0x01
        case leaf = 0x02
        case meta = 0x04
        case freelist = 0x10
    }

    /// A leaf element's flag for a nested bucket.
    private static let bucketLeafFlag: UInt32 = 0x01

    /// One entry of a bucket: a key and its value, or a nested bucket.
    struct Item {
        var key: [UInt8]
        var value: [UInt8]
        var isBucket = false
    }

    private var file = [UInt8](repeating: 0, count: 3 * pageSize)
    private var nextPage: UInt64 = 3

    /// Writes a bucket's entries (sorted by key) as a tree; returns its root page.
    mutating func writeTree(_ items: [Item]) -> UInt64 {
        var level: [(firstKey: [UInt8], page: UInt64)] = []
        for group in pack(items.map { ($0, Self.elementSize + $0.key.count + $0.value.count) }) {
            level.append((group.first?.key ?? [], writeLeaf(group)))
        }
        while level.count > 1 {
            var upper: [(firstKey: [UInt8], page: UInt64)] = []
            for group in pack(level.map { ($0, Self.elementSize + $0.firstKey.count) }) {
                upper.append((group[0].firstKey, writeBranch(group)))
            }
            level = upper
        }
        return level[0].page
    }

    /// Writes the root bucket over named buckets (their root pages), the freelist and the
    /// meta pages, and returns the whole file.
    mutating func finish(buckets: [(name: [UInt8], root: UInt64)]) -> [UInt8] {
        let items = buckets.sorted { $0.name.lexicographicallyPrecedes($1.name) }.map { bucket in
            // A bucket header: its root page and its sequence.
            Item(key: bucket.name, value: Self.bytes(bucket.root) + Self.bytes(UInt64(0)), isBucket: true)
        }
        let root = writeTree(items)
        writeHeader(page: 2, flags: .freelist, count: 0, overflow: 0)
        for (page, txid) in [(UInt64(0), UInt64(1)), (UInt64(1), UInt64(2))] {
            writeHeader(page: page, flags: .meta, count: 0, overflow: 0)
            var meta: [UInt8] = []
            meta += Self.bytes(Self.magic) + Self.bytes(Self.version) + Self.bytes(UInt32(Self.pageSize)) + Self.bytes(UInt32(0))
            meta += Self.bytes(root) + Self.bytes(UInt64(0))   // root bucket: page, sequence
            meta += Self.bytes(UInt64(2))                      // freelist page
            meta += Self.bytes(nextPage)                       // high-water mark
            meta += Self.bytes(txid)
            meta += Self.bytes(Self.fnv1a64(meta))
            put(meta, at: Int(page) * Self.pageSize + Self.pageHeaderSize)
        }
        return file
    }

    // MARK: Nodes

    /// Cuts entries into nodes that fit a page (a single entry larger than a page gets a node of its own).
    private func pack<T>(_ entries: [(T, Int)]) -> [[T]] {
        var groups: [[T]] = []
        var current: [T] = []
        var size = Self.pageHeaderSize
        for (entry, entrySize) in entries {
            if !current.isEmpty && size + entrySize > Self.pageSize {
                groups.append(current)
                current = []
                size = Self.pageHeaderSize
            }
            current.append(entry)
            size += entrySize
        }
        if !current.isEmpty || groups.isEmpty { groups.append(current) }
        return groups
    }

    private mutating func writeLeaf(_ items: [Item]) -> UInt64 {
        var elements: [UInt8] = []
        var data: [UInt8] = []
        let dataStart = Self.pageHeaderSize + items.count * Self.elementSize
        for (i, item) in items.enumerated() {
            let position = dataStart + data.count - (Self.pageHeaderSize + i * Self.elementSize)
            elements += Self.bytes(item.isBucket ? Self.bucketLeafFlag : 0) + Self.bytes(UInt32(position))
            elements += Self.bytes(UInt32(item.key.count)) + Self.bytes(UInt32(item.value.count))
            data += item.key + item.value
        }
        return writeNode(.leaf, count: items.count, body: elements + data)
    }

    private mutating func writeBranch(_ children: [(firstKey: [UInt8], page: UInt64)]) -> UInt64 {
        var elements: [UInt8] = []
        var data: [UInt8] = []
        let dataStart = Self.pageHeaderSize + children.count * Self.elementSize
        for (i, child) in children.enumerated() {
            let position = dataStart + data.count - (Self.pageHeaderSize + i * Self.elementSize)
            elements += Self.bytes(UInt32(position)) + Self.bytes(UInt32(child.firstKey.count)) + Self.bytes(child.page)
            data += child.firstKey
        }
        return writeNode(.branch, count: children.count, body: elements + data)
    }

    /// Appends a node at the next free page, spanning overflow pages as needed.
    private mutating func writeNode(_ flags: PageFlag, count: Int, body: [UInt8]) -> UInt64 {
        let size = Self.pageHeaderSize + body.count
        let pages = (size + Self.pageSize - 1) / Self.pageSize
        let page = nextPage
        nextPage += UInt64(pages)
        file += [UInt8](repeating: 0, count: pages * Self.pageSize)
        writeHeader(page: page, flags: flags, count: count, overflow: pages - 1)
        put(body, at: Int(page) * Self.pageSize + Self.pageHeaderSize)
        return page
    }

    private mutating func writeHeader(page: UInt64, flags: PageFlag, count: Int, overflow: Int) {
        put(Self.bytes(page) + Self.bytes(flags.rawValue) + Self.bytes(UInt16(count)) + Self.bytes(UInt32(overflow)),
            at: Int(page) * Self.pageSize)
    }

    private mutating func put(_ bytes: [UInt8], at offset: Int) {
        file.replaceSubrange(offset..<(offset + bytes.count), with: bytes)
    }

    // MARK: Encoding

    /// Little-endian bytes of an integer (bbolt writes the machine's order; Skiff runs on
    /// little-endian machines).
    static func bytes<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        withUnsafeBytes(of: value.littleEndian) { Array($0) }
    }

    /// FNV-1a, 64 bit: bbolt's meta page checksum.
    static func fnv1a64(_ bytes: [UInt8]) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes {
            hash ^= UInt64(b)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        return hash
    }
}
