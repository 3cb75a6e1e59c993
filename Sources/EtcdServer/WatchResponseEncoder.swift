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
/// Not thread-safe: its owner serializes access.
struct WatchResponseEncoder {
    /// The batch whose encodings are kept. Holding the array keeps its storage alive, so
    /// another batch can never be mistaken for it by address.
    private var batch: [Event] = []
    private var encodedEvents: [Bool: [UInt8]] = [:]
    private var headerRevision: Int64 = -1
    private var encodedHeader: [UInt8] = []

    /// The encoded response carrying `events` for watch `id`. `events` counts as the batch
    /// seen last when it is that very array (the same storage); then its encoding is reused.
    mutating func response(watchID id: Int64, header: Etcdserverpb_ResponseHeader, events: [Event], prevKV: Bool) -> [UInt8] {
        let fields: [UInt8]
        if Self.same(events, batch) {
            if let cached = encodedEvents[prevKV] {
                fields = cached
            } else {
                fields = Self.eventFields(events[...], prevKV: prevKV)
                encodedEvents[prevKV] = fields
            }
        } else {
            fields = Self.eventFields(events[...], prevKV: prevKV)
            batch = events
            encodedEvents = [prevKV: fields]
        }
        return response(watchID: id, header: header, eventFields: fields)
    }

    /// The encoded response carrying a slice of a batch (no sharing).
    mutating func response(watchID id: Int64, header: Etcdserverpb_ResponseHeader, events: ArraySlice<Event>, prevKV: Bool) -> [UInt8] {
        response(watchID: id, header: header, eventFields: Self.eventFields(events, prevKV: prevKV))
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

    /// Field 11 once per event: key, length, encoded `mvccpb.Event`.
    private static func eventFields(_ events: ArraySlice<Event>, prevKV: Bool) -> [UInt8] {
        var out: [UInt8] = []
        for event in events {
            let encoded: [UInt8] = try! Mvccpb_Event(event, prevKV: prevKV).serializedBytes()
            appendKey(field: 11, lengthDelimited: true, to: &out)
            appendVarint(UInt64(encoded.count), to: &out)
            out += encoded
        }
        return out
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
