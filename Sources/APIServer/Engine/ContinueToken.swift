import Foundation

/// The `continue` token of a paged list: the revision the first page was read at and the key
/// to resume from (relative to the list's key prefix), base64-encoded JSON.
struct ContinueToken: Sendable, Hashable {
    var revision: Int64
    var start: String

    var encoded: String {
        let json: JSON = ["v": "meta.k8s.io/v1", "rv": .int(revision), "start": .string(start)]
        return Data(json.serialized()).base64EncodedString()
    }

    init(revision: Int64, start: String) {
        self.revision = revision
        self.start = start
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
    }
}
