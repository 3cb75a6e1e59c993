import Foundation

/// Static bearer tokens from a CSV file in kube-apiserver's `--token-auth-file` format:
/// `token,user,uid[,"group1,group2"]`, one per line.
public struct TokenFileAuthenticator: Authenticator {
    let users: [String: UserInfo]

    public init(path: String) throws {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var users: [String: UserInfo] = [:]
        for (number, line) in text.split(whereSeparator: \.isNewline).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            let fields = Self.csvFields(trimmed)
            guard fields.count >= 3, !fields[0].isEmpty, !fields[1].isEmpty else {
                throw TokenFileError(path: path, line: number + 1)
            }
            let groups = fields.count > 3 ? fields[3].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } : []
            users[fields[0]] = UserInfo(name: fields[1], uid: fields[2], groups: groups.filter { !$0.isEmpty })
        }
        self.users = users
    }

    public func authenticate(_ request: HTTPRequest) async -> AuthenticationResult {
        guard let token = request.bearerToken else { return .noCredential }
        guard let user = users[token] else { return .rejected("invalid bearer token") }
        return .authenticated(user)
    }

    /// The fields of one CSV line; double quotes group commas and `""` is a quote.
    static func csvFields(_ line: String) -> [String] {
        var fields: [String] = []
        var current = ""
        var quoted = false
        var characters = line.makeIterator()
        var pending: Character? = nil
        while let c = pending ?? characters.next() {
            pending = nil
            if quoted {
                if c == "\"" {
                    if let next = characters.next() {
                        if next == "\"" { current.append("\"") } else { quoted = false; pending = next }
                    } else { quoted = false }
                } else { current.append(c) }
            } else if c == "\"" {
                quoted = true
            } else if c == "," {
                fields.append(current)
                current = ""
            } else {
                current.append(c)
            }
        }
        fields.append(current)
        return fields.map { $0.trimmingCharacters(in: .whitespaces) }
    }
}

/// A malformed line in a token file.
public struct TokenFileError: Error, CustomStringConvertible {
    public var path: String
    public var line: Int
    public var description: String { "\(path):\(line): expected token,user,uid[,\"groups\"]" }
}
