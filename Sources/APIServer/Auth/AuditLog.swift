import Foundation
import Synchronization

/// The audit log (`--audit-log-path`): one JSON line per request, an audit.k8s.io/v1
/// `Event` at the `ResponseComplete` stage (watches: `ResponseStarted`, when they start), with the user, verb,
/// object, response code and, by the policy's level, the request and response bodies.
public final class AuditLog: Sendable {
    let policy: AuditPolicy
    private let file: Mutex<FileHandle>

    /// Appends to `path` (created with mode 0600 if missing).
    public init(path: String, policy: AuditPolicy) throws {
        if !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
                throw AuditPolicyError("cannot create the audit log \(path)")
            }
        }
        guard let handle = FileHandle(forWritingAtPath: path) else { throw AuditPolicyError("cannot open the audit log \(path)") }
        handle.seekToEndOfFile()
        file = Mutex(handle)
        self.policy = policy
    }

    /// Records one request, if the policy audits it.
    func record(request: HTTPRequest, user: UserInfo?, verb: String, info: RequestInfo?, response: HTTPResponse, received: Date,
                protobuf: KubernetesProtobuf?) {
        let level = policy.level(user: user, verb: verb, info: info, path: request.path)
        guard level != .none else { return }
        var event: JSON = [
            "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": .string(level.rawValue),
            "auditID": .string(UUID().uuidString.lowercased()),
            "requestURI": .string(request.uri), "verb": .string(verb),
            "user": user.map { $0.json } ?? ["username": "system:anonymous", "groups": ["system:unauthenticated"]],
            "sourceIPs": .array([.string(Self.host(request.remoteAddress))]),
            "responseStatus": ["metadata": .emptyObject, "code": .int(Int64(response.status.code))],
            "requestReceivedTimestamp": .string(RFC3339.microString(received)),
            "stageTimestamp": .string(RFC3339.microString(Date())),
        ]
        switch response.body {
        case .stream, .upgrade: event["stage"] = "ResponseStarted"
        case .bytes: event["stage"] = "ResponseComplete"
        }
        if let agent = request.headers.first(name: "user-agent") { event["userAgent"] = .string(agent) }
        if !response.auditAnnotations.isEmpty { event["annotations"] = .object(response.auditAnnotations.mapValues { .string($0) }) }
        if let info {
            var reference: JSON = ["resource": .string(info.resource), "apiVersion": .string(info.version)]
            if !info.group.isEmpty { reference["apiGroup"] = .string(info.group) }
            if let namespace = info.namespace { reference["namespace"] = .string(namespace) }
            if let name = info.name ?? response.auditObjectName { reference["name"] = .string(name) }
            if let sub = info.subresource { reference["subresource"] = .string(sub) }
            event["objectRef"] = reference
        }
        if level >= .request, !request.body.isEmpty {
            // The object as the server read it: JSON, YAML or Kubernetes protobuf.
            let type = request.headers.first(name: "content-type") ?? ""
            if type.hasPrefix(KubernetesProtobuf.mediaType), let decoded = try? protobuf?.decode(request.body) {
                event["requestObject"] = decoded
            } else if let body = (try? JSON.parse(request.body)) ?? (try? JSON.parseYAML(request.body)) {
                event["requestObject"] = body
            }
        }
        if level >= .requestResponse, case .bytes(let bytes) = response.body {
            // Lists in protobuf are written as protobuf directly: read back to JSON here.
            let protobufBody = response.headers.first(name: "content-type")?.hasPrefix(KubernetesProtobuf.mediaType) == true
            if let body = protobufBody ? try? protobuf?.decode(bytes) : try? JSON.parse(bytes) {
                event["responseObject"] = body
            }
        }
        var line = event.serialized()
        line.append(UInt8(ascii: "\n"))
        file.withLock { $0.write(Data(line)) }
    }

    private static func host(_ remote: String) -> String {
        if remote.hasPrefix("["), let end = remote.firstIndex(of: "]") { return String(remote[remote.index(after: remote.startIndex)..<end]) }
        if let colon = remote.lastIndex(of: ":"), remote.firstIndex(of: ":") == colon { return String(remote[..<colon]) }
        return remote
    }
}
