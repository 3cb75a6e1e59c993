import NIOCore

/// An HTTP/1.1 request to a backend (a kubelet, a pod, a service endpoint), written on a
/// ``ByteStream`` as it stands; one request per connection.
struct BackendRequest: Sendable {
    var method: String
    /// The path and query, escaped.
    var target: String
    var host: String
    var headers: [(name: String, value: String)] = []
    var body: [UInt8] = []

    /// The request's bytes: its head (with `Host`, and `Content-Length` when a body is sent)
    /// and body.
    func serialized() -> [UInt8] {
        var head = "\(method) \(target) HTTP/1.1\r\nHost: \(host)\r\n"
        for (name, value) in headers where !Self.framing.contains(name.lowercased()) {
            head += "\(name): \(value)\r\n"
        }
        if !body.isEmpty || ["POST", "PUT", "PATCH"].contains(method) { head += "Content-Length: \(body.count)\r\n" }
        head += "\r\n"
        return Array(head.utf8) + body
    }

    /// Headers this request sets itself.
    private static let framing: Set<String> = ["host", "content-length", "transfer-encoding"]

    /// Header values may not carry line breaks into the backend's request.
    static func safe(_ value: String) -> Bool { !value.utf8.contains { $0 == 13 || $0 == 10 || $0 == 0 } }
}

/// A backend response's status line and header fields, and their bytes as received (relayed
/// unchanged after an upgrade).
struct BackendResponseHead: Sendable {
    var status: Int
    var reason: String
    var headers: [(name: String, value: String)]
    var raw: [UInt8]

    func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name }?.value
    }
}

/// Reads one HTTP/1.1 response from a backend connection: the head (at most
/// ``headLimit`` bytes), then the body as its framing says (length, chunked, or until
/// close), chunk by chunk; or, after a `101`, the bytes that follow.
actor BackendResponse {
    static let headLimit = 64 * 1024
    static let lineLimit = 4096

    private let connection: ByteStream
    private var iterator: ByteStream.Inbound.Iterator
    private var buffer: [UInt8] = []
    private var start = 0
    private var framing = Framing.none

    private enum Framing {
        case none
        case length(remaining: Int)
        case chunked(remaining: Int)
        case chunkedDone
        case untilClose
    }

    init(_ connection: ByteStream) {
        self.connection = connection
        iterator = connection.inbound.makeAsyncIterator()
    }

    /// Reads the status line and header fields. `bodyless`: the request was a HEAD.
    func readHead(bodyless: Bool = false) async throws -> BackendResponseHead {
        var end = find([13, 10, 13, 10], from: start)
        while end == nil {
            guard available < Self.headLimit else { throw BackendError.malformed("a response head larger than \(Self.headLimit) bytes") }
            // Only the bytes a new read adds (and the 3 before them) can complete the end.
            let searched = max(0, available - 3)
            guard try await fill() else { throw BackendError.malformed("the connection closed before the response head ended") }
            end = find([13, 10, 13, 10], from: start + searched)
        }
        guard let found = end else { throw BackendError.malformed("no response head") }
        let headEnd = found + 4
        let raw = Array(buffer[start..<headEnd])
        start = headEnd
        let text = String(decoding: raw.dropLast(4), as: UTF8.self)
        var lines = text.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        guard statusLine.count >= 2, statusLine[0].hasPrefix("HTTP/1."), let status = Int(statusLine[1]), (100...599).contains(status) else {
            throw BackendError.malformed("status line \"\(lines.first ?? "")\"")
        }
        var headers: [(name: String, value: String)] = []
        for line in lines where !line.isEmpty {
            guard let colon = line.firstIndex(of: ":") else { throw BackendError.malformed("header line \"\(line.prefix(80))\"") }
            headers.append((String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        let head = BackendResponseHead(status: status, reason: statusLine.count > 2 ? String(statusLine[2]) : "", headers: headers, raw: raw)
        if bodyless || status < 200 || status == 204 || status == 304 {
            framing = .none
        } else if head.header("transfer-encoding")?.lowercased().contains("chunked") == true {
            framing = .chunked(remaining: 0)
        } else if let length = head.header("content-length").flatMap(Int.init), length >= 0 {
            framing = .length(remaining: length)
        } else {
            framing = .untilClose
        }
        return head
    }

    /// The next piece of the body; nil once it has ended.
    func nextBodyChunk() async throws -> [UInt8]? {
        switch framing {
        case .none, .chunkedDone:
            return nil
        case .untilClose:
            if available == 0, try await !fill() { return nil }
            return take(available)
        case .length(let remaining):
            guard remaining > 0 else { return nil }
            if available == 0, try await !fill() { throw BackendError.malformed("the body ended \(remaining) bytes early") }
            let piece = take(min(remaining, available))
            framing = .length(remaining: remaining - piece.count)
            return piece
        case .chunked(let remaining):
            if remaining > 0 {
                if available == 0, try await !fill() { throw BackendError.malformed("a chunk ended early") }
                let piece = take(min(remaining, available))
                framing = .chunked(remaining: remaining - piece.count)
                if remaining - piece.count == 0 {
                    guard try await readLine().isEmpty else { throw BackendError.malformed("a chunk without its line end") }
                }
                return piece
            }
            let sizeLine = try await readLine()
            let digits = sizeLine.split(separator: ";", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
            guard !digits.isEmpty, digits.count <= 8, let size = Int(digits, radix: 16) else {
                throw BackendError.malformed("chunk size \"\(sizeLine.prefix(20))\"")
            }
            if size == 0 {
                // Trailer fields, up to the empty line.
                while try await !readLine().isEmpty {}
                framing = .chunkedDone
                return nil
            }
            framing = .chunked(remaining: size)
            return try await nextBodyChunk()
        }
    }

    /// The whole body, at most `limit` bytes.
    func body(limit: Int) async throws -> [UInt8] {
        var body: [UInt8] = []
        while let piece = try await nextBodyChunk() {
            guard body.count + piece.count <= limit else { throw BackendError.malformed("a body larger than \(limit) bytes") }
            body += piece
        }
        return body
    }

    /// Whether the body has been read to its framed end with nothing after it (the
    /// connection can carry another request).
    var endedCleanly: Bool {
        guard available == 0 else { return false }
        switch framing {
        case .none, .chunkedDone: return true
        case .length(let remaining): return remaining == 0
        case .chunked, .untilClose: return false
        }
    }

    /// Bytes read past the head and not yet taken (an upgraded stream's first bytes).
    func leftover() -> [UInt8] { take(available) }

    private var available: Int { buffer.count - start }

    private func take(_ count: Int) -> [UInt8] {
        let piece = Array(buffer[start..<(start + count)])
        start += count
        if start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
        }
        return piece
    }

    private func fill() async throws -> Bool {
        var iterator = self.iterator
        let next = try await iterator.next(isolation: self)
        self.iterator = iterator
        guard let chunk = next else { return false }
        if start > 64 * 1024 {
            buffer.removeFirst(start)
            start = 0
        }
        buffer.append(contentsOf: chunk.readableBytesView)
        return true
    }

    private func find(_ needle: [UInt8], from: Int) -> Int? {
        guard available >= needle.count else { return nil }
        var index = from
        while index + needle.count <= buffer.count {
            if buffer[index] == needle[0], Array(buffer[index..<(index + needle.count)]) == needle { return index }
            index += 1
        }
        return nil
    }

    private func readLine() async throws -> String {
        while true {
            if let end = find([13, 10], from: start) {
                let line = String(decoding: buffer[start..<end], as: UTF8.self)
                start = end + 2
                return line
            }
            guard available < Self.lineLimit else { throw BackendError.malformed("a line longer than \(Self.lineLimit) bytes") }
            guard try await fill() else { throw BackendError.malformed("the connection closed inside a chunked body") }
        }
    }
}
