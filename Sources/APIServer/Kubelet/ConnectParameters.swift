/// The query parameters of the connect subresources (logs, exec, attach, port forwarding),
/// parsed as kube-apiserver's parameter codec parses them: a value that is not a boolean or
/// a number where one is wanted is a 400.
struct ConnectParameters {
    let request: ResourceRequest

    func string(_ name: String) -> String? { request.parameter(name) }

    func strings(_ name: String) -> [String] { request.http.query[name] ?? [] }

    /// Go's `strconv.ParseBool`; absent is false.
    func bool(_ name: String) throws -> Bool {
        guard let text = request.parameter(name) else { return false }
        switch text {
        case "1", "t", "T", "true", "TRUE", "True": return true
        case "0", "f", "F", "false", "FALSE", "False", "": return false
        default: throw StatusError.badRequest("invalid value for \(name): strconv.ParseBool: parsing \(Self.quoted(text)): invalid syntax")
        }
    }

    /// A 64-bit integer, or nil when absent.
    func int(_ name: String) throws -> Int64? {
        guard let text = request.parameter(name) else { return nil }
        guard let value = Int64(text) else {
            throw StatusError.badRequest("invalid value for \(name): strconv.ParseInt: parsing \(Self.quoted(text)): invalid syntax")
        }
        return value
    }

    static func quoted(_ text: String) -> String {
        "\"" + String(text.prefix(64)).replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}
