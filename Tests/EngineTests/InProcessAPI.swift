@testable import APIServer
import Foundation
import Logging
import NIOHTTP1
import TestSupport

/// The whole API server in this process on a ``MemoryObjectStore``: the bootstrap's engine,
/// admission, authentication and authorization, and (when asked) its control loops. Requests
/// go to its handler chain as the HTTP server would hand them over, without a socket.
final class InProcessAPI: Sendable {
    static let adminToken = "engine-admin-token"
    static let viewerToken = "engine-viewer-token"

    let store: MemoryObjectStore
    let bootstrap: APIServerBootstrap
    let directory: TemporaryDirectory
    private let loops: Task<Void, Never>

    /// A server with an admin (`system:masters`) and a viewer (no bindings) token; with
    /// `controllers`, the control loops run too (garbage collector, namespace lifecycle...);
    /// with `audit`, an audit log (under `auditPolicy`, a policy file, when given).
    /// `selection` chooses which loops the bootstrap would run (`--controllers`).
    init(controllers: Bool = false, selection: ControllerSelection = .all, audit: Bool = false, auditPolicy: String? = nil,
         wrap: @Sendable (MemoryObjectStore) -> any ObjectStore = { $0 }) async throws {
        directory = try TemporaryDirectory()
        let tokens = directory.path + "/tokens.csv"
        try "\(Self.adminToken),admin,u-admin,system:masters\n\(Self.viewerToken),viewer,u-viewer\n"
            .write(toFile: tokens, atomically: true, encoding: .utf8)
        var configuration = APIServerBootstrap.Configuration(dataDirectory: directory.path, host: "127.0.0.1", port: 0)
        configuration.tokenAuthFile = tokens
        if audit { configuration.auditLogPath = directory.path + "/audit.log" }
        configuration.auditPolicyFile = auditPolicy
        configuration.controllers = selection
        var logger = Logger(label: "engine-tests")
        logger.logLevel = ProcessInfo.processInfo.environment["ENGINE_TEST_LOG"] == "1" ? .info : .warning
        let store = MemoryObjectStore()
        self.store = store
        let bootstrap = try await APIServerBootstrap(configuration: configuration, store: wrap(store), logger: logger)
        self.bootstrap = bootstrap
        // The watched caches (RBAC policy, what tokens name...) always follow the store, as
        // on a real server; the control loops only when asked for.
        loops = controllers ? Task { await bootstrap.runControllers(identity: "engine-tests") } : Task { await bootstrap.runCaches() }
    }

    deinit {
        loops.cancel()
        directory.remove()
    }

    /// The audit log's events so far (with `audit: true`).
    func auditEvents() -> [JSON] {
        guard let text = try? String(contentsOfFile: directory.path + "/audit.log", encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { try? JSON.parse(String($0)) }
    }

    /// An answer: its status and its body as JSON (`null` when it is not JSON).
    struct Answer {
        var status: Int
        var body: JSON
        var headers: HTTPHeaders

        var name: String? { body[path: ["metadata", "name"]]?.stringValue }
        var resourceVersion: String? { body[path: ["metadata", "resourceVersion"]]?.stringValue }
        var reason: String? { body["reason"]?.stringValue }
    }

    /// Sends a request; a streamed body is read for at most `streamFor`.
    func request(_ method: HTTPMethod, _ uri: String, _ body: JSON? = nil, token: String = adminToken,
                 contentType: String = "application/json", accept: String = "application/json") async -> Answer {
        var headers: HTTPHeaders = ["Authorization": "Bearer \(token)", "Accept": accept]
        if body != nil { headers.add(name: "Content-Type", value: contentType) }
        let response = await bootstrap.api.respond(to: HTTPRequest(method: method, uri: uri, headers: headers,
                                                                   body: body?.serialized() ?? [], remoteAddress: "127.0.0.1"))
        guard case .bytes(let bytes) = response.body else {
            return Answer(status: Int(response.status.code), body: .null, headers: response.headers)
        }
        return Answer(status: Int(response.status.code), body: (try? JSON.parse(bytes)) ?? .null, headers: response.headers)
    }

    /// The server's `/metrics` text.
    func metrics() async -> String {
        let headers: HTTPHeaders = ["Authorization": "Bearer \(Self.adminToken)"]
        let response = await bootstrap.api.respond(to: HTTPRequest(method: .GET, uri: "/metrics", headers: headers, remoteAddress: "127.0.0.1"))
        guard case .bytes(let bytes) = response.body else { return "" }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Sends a watch and collects its events until `until` says enough (or `limit` passes).
    func watch(_ uri: String, limit: Duration = .seconds(10),
               until enough: @escaping @Sendable ([JSON]) -> Bool) async throws -> [JSON] {
        let headers: HTTPHeaders = ["Authorization": "Bearer \(Self.adminToken)", "Accept": "application/json"]
        let response = await bootstrap.api.respond(to: HTTPRequest(method: .GET, uri: uri, headers: headers, remoteAddress: "127.0.0.1"))
        guard case .stream(let write) = response.body else {
            throw InProcessError.notAStream(Int(response.status.code))
        }
        let collected = EventCollector()
        return try await withThrowingTaskGroup(of: [JSON].self) { group in
            group.addTask {
                try await write(HTTPBodyWriter { bytes in
                    if await collected.add(bytes, enough: enough) { throw CancellationError() }
                })
                return await collected.events
            }
            group.addTask {
                try await Task.sleep(for: limit)
                return await collected.events
            }
            defer { group.cancelAll() }
            _ = try? await group.next()
            return await collected.events
        }
    }

    /// Waits until `condition` holds, checking every 20 ms, for at most `limit`.
    func eventually(_ limit: Duration = .seconds(30), _ condition: () async -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if await condition() { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return await condition()
    }
}

enum InProcessError: Error {
    case notAStream(Int)
}

/// The watch events written so far, split at newlines.
actor EventCollector {
    private var buffer: [UInt8] = []
    private(set) var events: [JSON] = []

    /// Takes written bytes; `true` when `enough` says the events suffice.
    func add(_ bytes: [UInt8], enough: ([JSON]) -> Bool) -> Bool {
        buffer.append(contentsOf: bytes)
        while let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
            if let event = try? JSON.parse(buffer[..<newline]) { events.append(event) }
            buffer.removeSubrange(...newline)
        }
        return enough(events)
    }
}

extension JSON {
    /// A Kubernetes object for tests.
    static func resource(_ apiVersion: String, _ kind: String, name: String? = nil, generateName: String? = nil,
                       namespace: String? = nil, _ extra: [String: JSON] = [:]) -> JSON {
        var metadata: [String: JSON] = [:]
        if let name { metadata["name"] = .string(name) }
        if let generateName { metadata["generateName"] = .string(generateName) }
        if let namespace { metadata["namespace"] = .string(namespace) }
        var object: [String: JSON] = ["apiVersion": .string(apiVersion), "kind": .string(kind), "metadata": .object(metadata)]
        for (key, value) in extra { object[key] = value }
        return .object(object)
    }
}
