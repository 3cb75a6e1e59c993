import EtcdAPI
import KineLayer
import SwiftProtobuf

/// Builds encoded `WatchResponse` messages for changes, sharing the work between the watches
/// of one stream: a batch of changes seen by many watches is encoded once (per choice of
/// previous values), and each watch's response is then the header, its watch ID and those
/// bytes. Responses with events are written field by field in the protobuf wire format
/// (`header` = 1, `watch_id` = 2, repeated `events` = 11); every other response is encoded
/// by SwiftProtobuf.
///
/// A batch too large for one response (a catch-up read from the log) is split into several:
/// at most ``maxEventsPerResponse`` events and about ``maxBytesPerResponse`` bytes each, as
/// gRPC clients refuse messages over 4 MiB by default.
///
/// Not thread-safe: its owner serializes access.
struct WatchResponseEncoder {
    static let maxEventsPerResponse = 1000
    static let maxBytesPerResponse = 1 << 20

    /// A batch of changes and its encoded event fields, per response and per choice of
    /// previous values. Holding the array keeps its storage alive, so another batch can
    /// never be mistaken for it by address.
    private struct Encoded {
        var batch: [Event]
        var parts: [Bool: [[UInt8]]]
    }

    /// The batches seen last, most recent first: the one batch every unfiltered watch of a
    /// delivery shares stays here while filtered copies come and go.
    private var recent: [Encoded] = []
    private static let recentLimit = 4
    private var headerRevision: Int64 = -1
    private var encodedHeader: [UInt8] = []

    /// The encoded responses carrying `events` for watch `id`: one, or several for a batch
    /// too large for one. When `events` is an array seen recently (the same storage), its
    /// encoding is reused.
    mutating func responses(watchID id: Int64, header: Etcdserverpb_ResponseHeader, events: [Event], prevKV: Bool) -> [[UInt8]] {
        let parts: [[UInt8]]
        if let index = recent.firstIndex(where: { Self.same(events, $0.batch) }) {
            var entry = recent.remove(at: index)
            if let cached = entry.parts[prevKV] {
                parts = cached
            } else {
                parts = Self.eventParts(events, prevKV: prevKV)
                entry.parts[prevKV] = parts
            }
            recent.insert(entry, at: 0)
        } else {
            parts = Self.eventParts(events, prevKV: prevKV)
            recent.insert(Encoded(batch: events, parts: [prevKV: parts]), at: 0)
            if recent.count > Self.recentLimit { recent.removeLast() }
        }
        return parts.map { response(watchID: id, header: header, eventFields: $0) }
    }

    /// Encodes any other response.
    static func encode(_ response: Etcdserverpb_WatchResponse) -> [UInt8] {
        // A proto3 message has no required field, so encoding cannot fail.
        try! response.serializedBytes()
    }

    private mutating func response(watchID id: Int64, header: Etcdserverpb_ResponseHeader, eventFields: [UInt8]) -> [UInt8] {
        if header.revision != headerRevision {
            encodedHeader = try! header.serializedBytes()
            headerRevision = header.revision
        }
        var out: [UInt8] = []
        out.reserveCapacity(encodedHeader.count + eventFields.count + 16)
        Self.appendKey(field: 1, lengthDelimited: true, to: &out)
        Self.appendVarint(UInt64(encodedHeader.count), to: &out)
        out += encodedHeader
        if id != 0 {
            Self.appendKey(field: 2, lengthDelimited: false, to: &out)
            Self.appendVarint(UInt64(bitPattern: id), to: &out)
        }
        out += eventFields
        return out
    }

    /// Field 11 once per event (key, length, encoded `mvccpb.Event`), grouped into the runs
    /// that each make one response.
    private static func eventParts(_ events: [Event], prevKV: Bool) -> [[UInt8]] {
        var parts: [[UInt8]] = []
        var current: [UInt8] = []
        var count = 0
        for event in events {
            let encoded: [UInt8] = try! Mvccpb_Event(event, prevKV: prevKV).serializedBytes()
            if count > 0 && (count == maxEventsPerResponse || current.count + encoded.count > maxBytesPerResponse) {
                parts.append(current)
                current = []
                count = 0
            }
            appendKey(field: 11, lengthDelimited: true, to: &current)
            appendVarint(UInt64(encoded.count), to: &current)
            current += encoded
            count += 1
        }
        parts.append(current)
        return parts
    }

    private static func same(_ a: [Event], _ b: [Event]) -> Bool {
        a.count == b.count && a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in pa.baseAddress == pb.baseAddress } }
    }

    private static func appendKey(field: UInt64, lengthDelimited: Bool, to out: inout [UInt8]) {
        appendVarint(field << 3 | (lengthDelimited ? 2 : 0), to: &out)
    }

    private static func appendVarint(_ value: UInt64, to out: inout [UInt8]) {
        var v = value
        while v >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }
}
