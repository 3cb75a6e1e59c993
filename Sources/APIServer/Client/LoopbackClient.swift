import NIOHTTP1
import Synchronization

/// Where a ``LoopbackClient``'s requests go: the server's handler chain, attached once it is
/// built (the bootstrap builds the loops' clients before the API they write through).
public final class LoopbackTarget: Sendable {
    private let api = Mutex<KubernetesAPI?>(nil)

    public init() {}

    func attach(_ api: KubernetesAPI) { self.api.withLock { $0 = api } }

    func respond(to request: HTTPRequest, as user: UserInfo) async throws -> HTTPResponse {
        guard let api = api.withLock({ $0 }) else {
            throw StatusError.serviceUnavailable("the API server is not built yet; a loop wrote before it started")
        }
        return await api.respond(to: request, as: user)
    }
}

/// The API server's own client, as kube-apiserver's loopback client: the bootstrap and every
/// control loop write through the same pipeline as a request (defaults, validation, admission,
/// managedFields, address allocation, audit, metrics), under an identity of their own,
/// `system:skiff:<loop>`, which RBAC and the audit log see. Objects are named by their
/// storage keys; reads go to the store directly, as kube-apiserver's informers read a cache.
public struct LoopbackClient: Sendable {
    /// The identity's group: the loops may do anything, as kube-apiserver's loopback client may.
    static let groups = ["system:masters", "system:authenticated"]

    let target: LoopbackTarget
    let catalog: ResourceCatalog
    /// Who the loop is: `system:skiff:<loop>`.
    public let user: UserInfo
    /// Also its field manager.
    let loop: String

    public init(target: LoopbackTarget, catalog: ResourceCatalog, loop: String) {
        self.target = target
        self.catalog = catalog
        self.loop = loop
        self.user = UserInfo(name: "system:skiff:\(loop)", groups: Self.groups)
    }

    /// What a delete did.
    public enum DeleteOutcome: Sendable {
        /// The object is gone.
        case deleted
        /// The object is marked as being deleted and held by finalizers (the object as it is now).
        case pending(JSON)
        case missing
        /// A precondition did not hold, or the object kept changing.
        case conflict
    }

    // MARK: Verbs

    /// Creates the object at `key`; `nil` if it exists.
    @discardableResult
    public func create(_ key: String, _ object: JSON) async throws -> StoredObject? {
        let (path, _) = try location(key)
        let answer = try await send(.POST, collection(path), object)
        switch answer.status {
        case 200, 201: return Self.stored(answer.body, key: key)
        case 409 where answer.body["reason"]?.stringValue == "AlreadyExists": return nil
        default: throw Self.error(answer)
        }
    }

    /// Replaces the object at `key` (or, with `subresource`, that part of it) if it is still
    /// at `expectedRevision`.
    public func update(_ key: String, _ object: JSON, expectedRevision: Int64, subresource: String? = nil) async throws -> WriteOutcome {
        let (path, _) = try location(key)
        var body = object
        body[path: ["metadata", "resourceVersion"]] = .string(String(expectedRevision))
        let answer = try await send(.PUT, path + (subresource.map { "/" + $0 } ?? ""), body)
        switch answer.status {
        case 200, 201:
            // (An update that lets go of the last finalizer of an object being deleted removes
            // it; the answer is then the object as it was last.)
            return .written(Self.stored(answer.body, key: key))
        case 409: return .conflict
        case 404: return .missing
        default: throw Self.error(answer)
        }
    }

    /// Reads the object, hands it to `change` and writes what that returns (through
    /// `subresource` when given) if the object has not changed in between; on a conflict it
    /// reads again, up to `attempts` times, then throws 409. `change` returns `nil` to leave
    /// the object alone. Returns the object as it is afterwards, `nil` if there is none.
    @discardableResult
    public func guaranteedUpdate(_ key: String, in store: any ObjectStore, subresource: String? = nil, attempts: Int = 16,
                                 _ change: (StoredObject) async throws -> JSON?) async throws -> StoredObject? {
        for _ in 0..<max(1, attempts) {
            guard let current = try await store.get(key) else { return nil }
            guard let updated = try await change(current), !ResourceEngine.sameContent(updated, current.object) else { return current }
            switch try await update(key, updated, expectedRevision: current.modRevision, subresource: subresource) {
            case .written(let stored): return stored
            case .missing: return nil
            case .conflict: continue
            }
        }
        throw StatusError(code: 409, reason: "Conflict",
                          message: "Operation cannot be fulfilled on \(key): the object kept changing; \(attempts) attempts to update it conflicted")
    }

    /// Deletes the object at `key` as a DELETE request would, with its preconditions and
    /// propagation policy (`Background`, `Foreground`, `Orphan`).
    @discardableResult
    public func delete(_ key: String, uid: String? = nil, resourceVersion: Int64? = nil, propagation: String? = nil) async throws -> DeleteOutcome {
        let (path, _) = try location(key)
        var options: [String: JSON] = ["kind": "DeleteOptions", "apiVersion": "v1"]
        var preconditions: [String: JSON] = [:]
        if let uid { preconditions["uid"] = .string(uid) }
        if let resourceVersion { preconditions["resourceVersion"] = .string(String(resourceVersion)) }
        if !preconditions.isEmpty { options["preconditions"] = .object(preconditions) }
        if let propagation { options["propagationPolicy"] = .string(propagation) }
        let answer = try await send(.DELETE, path, .object(options))
        switch answer.status {
        case 200, 202:
            let body = answer.body
            if body["kind"]?.stringValue != "Status", body[path: ["metadata", "deletionTimestamp"]] != nil,
               !(body[path: ["metadata", "finalizers"]]?.arrayValue ?? []).isEmpty {
                return .pending(body)
            }
            return .deleted
        case 404: return .missing
        case 409: return .conflict
        default: throw Self.error(answer)
        }
    }

    // MARK: Plumbing

    /// The URL path of the object at `key`, and its resource.
    func location(_ key: String) throws -> (path: String, resource: ResourceDescriptor) {
        let candidates = catalog.resources.filter { $0.isStored && $0.group == $0.storageGroup && key.hasPrefix($0.keyPrefix) }
        // The longest prefix names the resource; of its versions, the group's preferred one.
        guard let longest = candidates.map(\.keyPrefix.count).max() else {
            throw StatusError.internalError("no served resource is stored at \(key)")
        }
        let matching = candidates.filter { $0.keyPrefix.count == longest }
        let preferred = catalog.preferredVersion(of: matching[0].group)
        let resource = matching.first { $0.version == preferred } ?? matching[0]
        let rest = key.dropFirst(resource.keyPrefix.count).split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        let base = resource.group.isEmpty ? "/api/\(resource.version)" : "/apis/\(resource.group)/\(resource.version)"
        switch (resource.namespaced, rest.count) {
        case (true, 2):
            if resource.group.isEmpty && resource.plural == "namespaces" { break }
            return ("\(base)/namespaces/\(rest[0])/\(resource.plural)/\(rest[1])", resource)
        case (false, 1):
            return ("\(base)/\(resource.plural)/\(rest[0])", resource)
        default: break
        }
        throw StatusError.internalError("the key \(key) does not name one \(resource.plural) object")
    }

    /// The collection path of an object path.
    private func collection(_ path: String) -> String {
        String(path[..<(path.lastIndex(of: "/") ?? path.endIndex)])
    }

    struct Answer {
        var status: Int
        var body: JSON
    }

    private func send(_ method: HTTPMethod, _ path: String, _ body: JSON?) async throws -> Answer {
        var headers: HTTPHeaders = ["Accept": "application/json", "User-Agent": "skiff/\(loop)"]
        if body != nil { headers.add(name: "Content-Type", value: "application/json") }
        let query = method == .POST || method == .PUT ? "?fieldManager=skiff-\(loop)" : ""
        let request = HTTPRequest(method: method, uri: path + query, headers: headers,
                                  body: body?.serialized() ?? [], remoteAddress: "127.0.0.1")
        let response = try await target.respond(to: request, as: user)
        switch response.body {
        case .bytes(let bytes):
            return Answer(status: Int(response.status.code), body: (try? JSON.parse(bytes)) ?? .null)
        case .stream(let produce):
            // A backend's answer relayed as it came (an aggregated API server's chunked list).
            let collected = Mutex<[UInt8]>([])
            let limit = Self.streamedAnswerLimit
            try await produce(HTTPBodyWriter { bytes in
                try collected.withLock { body in
                    guard body.count + bytes.count <= limit else {
                        throw StatusError.internalError("an answer longer than \(limit) bytes")
                    }
                    body += bytes
                }
            })
            return Answer(status: Int(response.status.code), body: (try? JSON.parse(collected.withLock { $0 })) ?? .null)
        case .upgrade:
            return Answer(status: Int(response.status.code), body: .null)
        }
    }

    /// The most of a streamed answer a loop reads.
    static let streamedAnswerLimit = 16 * 1024 * 1024

    /// Sends `method` to any path the API serves (an aggregated API server's too) and
    /// answers the status and the body.
    func request(_ method: HTTPMethod, path: String) async throws -> (status: Int, body: JSON) {
        let answer = try await send(method, path, nil)
        return (answer.status, answer.body)
    }

    private static func stored(_ object: JSON, key: String) -> StoredObject {
        let revision = object[path: ["metadata", "resourceVersion"]]?.stringValue.flatMap { Int64($0) } ?? 0
        return StoredObject(object: object, modRevision: revision, key: key)
    }

    /// The refusal an answer carries, as the `Status` it is.
    private static func error(_ answer: Answer) -> StatusError {
        StatusError(code: answer.status, reason: answer.body["reason"]?.stringValue ?? "InternalError",
                    message: answer.body["message"]?.stringValue ?? "the API answered \(answer.status)",
                    details: answer.body["details"])
    }
}
