import Foundation

/// The `continue` token of a paged list: the revision the first page was read at and the key
/// to resume from (relative to the list's key prefix), base64-encoded JSON; for a list
/// without selectors, also how many objects were left after the page, so that the next page
/// says how many follow it without counting the rest of the range again (the count at a
/// fixed revision only shrinks by the pages read). A client that alters it alters only the
/// `remainingItemCount` it is told.
struct ContinueToken: Sendable, Hashable {
    var revision: Int64
    var start: String
    var remaining: Int64?

    var encoded: String {
        var json: JSON = ["v": "meta.k8s.io/v1", "rv": .int(revision), "start": .string(start)]
        if let remaining { json["rem"] = .int(remaining) }
        return Data(json.serialized()).base64EncodedString()
    }

    init(revision: Int64, start: String, remaining: Int64? = nil) {
        self.revision = revision
        self.start = start
        self.remaining = remaining
    }

    init(decoding text: String) throws {
        var padded = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while padded.count % 4 != 0 { padded += "=" }
        guard let data = Data(base64Encoded: padded), let json = try? JSON.parse(Array(data)),
              let revision = json["rv"]?.intValue, revision > 0 || revision == -1, let start = json["start"]?.stringValue,
              !start.contains("..") else {
            throw StatusError.badRequest("continue key is not valid: the token is malformed")
        }
        self.revision = revision
        self.start = start
        remaining = json["rem"]?.intValue.flatMap { $0 >= 0 ? $0 : nil }
    }
}
