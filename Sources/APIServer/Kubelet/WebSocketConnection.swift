import Crypto
import Foundation
import NIOCore
import NIOHTTP1

/// The server side of a WebSocket (RFC 6455) on an upgraded ``ByteStream``: the handshake's
/// answer, and messages read from the client (masked frames, fragments joined, at most
/// ``messageLimit`` bytes) and written to it (unmasked, whole).
final class WebSocketConnection: Sendable {
    /// The largest message accepted from a client; a larger one closes the connection (1009).
    static let messageLimit = 4 << 20

    enum Opcode: UInt8 {
        case continuation = 0, text = 1, binary = 2, close = 8, ping = 9, pong = 10
    }

    let stream: ByteStream

    init(_ stream: ByteStream) { self.stream = stream }

    /// Writes one whole message.
    func send(_ opcode: Opcode, _ payload: [UInt8]) async throws {
        var frame: [UInt8] = [0x80 | opcode.rawValue]
        switch payload.count {
        case ..<126: frame.append(UInt8(payload.count))
        case ..<65536: frame += [126, UInt8(payload.count >> 8), UInt8(payload.count & 0xff)]
        default:
            frame.append(127)
            for shift in stride(from: 56, through: 0, by: -8) { frame.append(UInt8((UInt64(payload.count) >> UInt64(shift)) & 0xff)) }
        }
        try await stream.write(frame + payload)
    }

    /// Sends a close frame with a status code.
    func sendClose(_ code: UInt16, _ reason: String = "") async {
        try? await send(.close, [UInt8(code >> 8), UInt8(code & 0xff)] + Array(reason.utf8.prefix(120)))
    }

    /// Reads the client's messages; ping is answered here, close ends the sequence.
    func messages() -> Messages { Messages(connection: self) }

    struct Messages {
        let connection: WebSocketConnection
        var input: InboundBuffer

        init(connection: WebSocketConnection) {
            self.connection = connection
            input = InboundBuffer(connection.stream)
        }

        /// The next data message (text or binary); nil once the client closed or the stream ended.
        mutating func next() async throws -> (opcode: Opcode, payload: [UInt8])? {
            var message: [UInt8] = []
            var messageOpcode: Opcode? = nil
            while true {
                guard let frame = try await nextFrame() else { return nil }
                switch frame.opcode {
                case .ping:
                    try await connection.send(.pong, frame.payload)
                case .pong:
                    break
                case .close:
                    await connection.sendClose(1000)
                    return nil
                case .text, .binary:
                    guard messageOpcode == nil else { throw WebSocketError.protocolViolation("a new message inside a fragmented one") }
                    if frame.fin { return (frame.opcode, frame.payload) }
                    messageOpcode = frame.opcode
                    message = frame.payload
                case .continuation:
                    guard let opcode = messageOpcode else { throw WebSocketError.protocolViolation("a continuation without a message") }
                    guard message.count + frame.payload.count <= WebSocketConnection.messageLimit else {
                        await connection.sendClose(1009)
                        throw WebSocketError.tooLarge
                    }
                    message += frame.payload
                    if frame.fin { return (opcode, message) }
                }
            }
        }

        private mutating func nextFrame() async throws -> (fin: Bool, opcode: Opcode, payload: [UInt8])? {
            guard try await input.need(2) else { return nil }
            let first = input[0], second = input[1]
            guard let opcode = Opcode(rawValue: first & 0x0f) else { throw WebSocketError.protocolViolation("unknown opcode \(first & 0x0f)") }
            guard first & 0x70 == 0 else { throw WebSocketError.protocolViolation("reserved bits set (no extension was agreed)") }
            guard second & 0x80 != 0 else { throw WebSocketError.protocolViolation("a client frame must be masked") }
            var length = UInt64(second & 0x7f)
            var offset = 2
            if length == 126 {
                guard try await input.need(4) else { return nil }
                length = UInt64(input[2]) << 8 | UInt64(input[3])
                offset = 4
            } else if length == 127 {
                guard try await input.need(10) else { return nil }
                length = 0
                for i in 0..<8 { length = length << 8 | UInt64(input[2 + i]) }
                offset = 10
            }
            guard length <= UInt64(WebSocketConnection.messageLimit) else {
                await connection.sendClose(1009)
                throw WebSocketError.tooLarge
            }
            if opcode.rawValue >= 8, length > 125 || first & 0x80 == 0 { throw WebSocketError.protocolViolation("a control frame longer than 125 bytes or fragmented") }
            guard try await input.need(offset + 4 + Int(length)) else { return nil }
            _ = input.take(offset)
            let mask = input.take(4)
            var payload = input.take(Int(length))
            for i in payload.indices { payload[i] ^= mask[i & 3] }
            return (first & 0x80 != 0, opcode, payload)
        }
    }
}

enum WebSocketError: Error, CustomStringConvertible {
    case protocolViolation(String)
    case tooLarge

    var description: String {
        switch self {
        case .protocolViolation(let why): "websocket protocol violation: \(why)"
        case .tooLarge: "websocket message larger than \(WebSocketConnection.messageLimit) bytes"
        }
    }
}

/// The opening handshake of RFC 6455, section 4.2, as a server answers it.
enum WebSocketHandshake {
    static func isWebSocket(_ headers: HTTPHeaders) -> Bool {
        headers[canonicalForm: "upgrade"].contains { $0.lowercased() == "websocket" }
    }

    /// The subprotocols the client offers, in its order.
    static func offeredProtocols(_ headers: HTTPHeaders) -> [String] {
        headers[canonicalForm: "sec-websocket-protocol"]
            .flatMap { $0.split(separator: ",") }
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
    }

    /// The client's key, checked; a 400 for a handshake that is not version 13 or has no key.
    static func key(_ headers: HTTPHeaders) throws -> String {
        guard headers.first(name: "sec-websocket-version") == "13" else {
            throw StatusError.badRequest("unsupported websocket version: only version 13 is served")
        }
        guard let key = headers.first(name: "sec-websocket-key"), let decoded = Data(base64Encoded: key), decoded.count == 16 else {
            throw StatusError.badRequest("missing or malformed Sec-WebSocket-Key")
        }
        return key
    }

    /// The `101` answer accepting `key` with `subprotocol`.
    static func accept(key: String, subprotocol: String) -> [UInt8] {
        let digest = Insecure.SHA1.hash(data: Array((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").utf8))
        let accept = Data(digest).base64EncodedString()
        return Array(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Accept: \(accept)\r\nSec-WebSocket-Protocol: \(subprotocol)\r\n\r\n").utf8)
    }
}
