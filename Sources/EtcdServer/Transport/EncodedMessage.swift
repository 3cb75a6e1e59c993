import GRPCCore

/// A message already encoded by the service, sent as it is.
struct EncodedMessage: Sendable {
    var bytes: [UInt8]
}

/// Passes ``EncodedMessage``s through without encoding them again.
struct EncodedMessageSerializer: MessageSerializer {
    func serialize<Bytes: GRPCContiguousBytes>(_ message: EncodedMessage) throws -> Bytes {
        if let same = message.bytes as? Bytes { return same }
        return Bytes(message.bytes)
    }
}
