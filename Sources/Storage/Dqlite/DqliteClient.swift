import NIOCore
import NIOPosix
import NIOSSL

/// One connection to one dqlite node, speaking the wire protocol.
///
/// Requests may be sent from several tasks; they are answered in order. Each request has a
/// time limit: dqlite does not answer some requests at all, so a request that gets no
/// answer in time closes the connection (the answers after it could no longer be matched).
public final class DqliteClient: Sendable {
    /// The node's address as dialled ("IP:PORT").
    public let address: String
    private let channel: any Channel
    private let timeout: TimeAmount

    private init(address: String, channel: any Channel, timeout: TimeAmount) {
        self.address = address
        self.channel = channel
        self.timeout = timeout
    }

    /// Dials `address` ("IP:PORT"), over TLS when `tls` is given; the protocol version goes
    /// out first. `faults` makes the connection fail on purpose (tests).
    public static func connect(to address: String, tls: NIOSSLContext?, timeout: Duration = .seconds(5),
                               faults: (any DqliteFaultPlan)? = nil,
                               group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws -> DqliteClient {
        let (host, port) = try DqliteAddress.split(address)
        let amount = TimeAmount.nanoseconds(Int64(timeout.components.seconds) * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000)
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: group)
                .connectTimeout(amount)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let ops = channel.pipeline.syncOperations
                        if let tls { try ops.addHandler(try NIOSSLClientHandler(context: tls, serverHostname: nil)) }
                        try ops.addHandler(ByteToMessageHandler(DqliteFrameDecoder()))
                        if let faults { try ops.addHandler(DqliteFaultHandler(plan: faults)) }
                        try ops.addHandler(DqliteFrameHandler())
                    }
                }
                .connect(host: host, port: port).get()
        } catch {
            throw DqliteError.connectionLost("cannot connect to \(address): \(error)")
        }
        return DqliteClient(address: address, channel: channel, timeout: amount)
    }

    /// Closes the connection.
    public func close() {
        channel.close(promise: nil)
    }

    /// Whether the connection is still open.
    public var isActive: Bool { channel.isActive }

    // MARK: Requests

    func request(_ type: DqliteWire.Request, _ build: (inout DqliteMessageWriter) throws -> Void) async throws -> DqliteResponse {
        try await answer(try send(type, build))
    }

    /// Sends a request and returns where its answer will arrive, without waiting: requests
    /// sent one after another from one task go out (and are answered) in that order, so
    /// several can be on the wire at once (pipelined) and cost one round trip.
    private func send(_ type: DqliteWire.Request, _ build: (inout DqliteMessageWriter) throws -> Void) throws -> EventLoopFuture<DqliteResponse> {
        var writer = DqliteMessageWriter()
        try build(&writer)
        let frame = writer.frame(type)
        let promise = channel.eventLoop.makePromise(of: DqliteResponse.self)
        let channel = self.channel, seconds = Double(timeout.nanoseconds) / 1e9
        // The answer's promise is failed here, not only by the frame handler: once the
        // connection has closed, the handler is gone from the pipeline, and a write or an
        // error sent down it would never reach the promise (the request would wait forever).
        let timer = channel.eventLoop.scheduleTask(in: timeout) {
            promise.fail(DqliteError.timeout(seconds: seconds))
            channel.close(promise: nil)
        }
        let written = channel.eventLoop.makePromise(of: Void.self)
        written.futureResult.whenFailure { error in
            promise.fail(error as? DqliteError ?? .connectionLost("cannot send to the node: \(error)"))
        }
        promise.futureResult.whenComplete { _ in timer.cancel() }
        channel.writeAndFlush((frame, promise), promise: written)
        return promise.futureResult
    }

    /// Waits for a sent request's answer; a FAILURE answer is thrown as ``DqliteError/failure(code:message:)``.
    private func answer(_ future: EventLoopFuture<DqliteResponse>) async throws -> DqliteResponse {
        let response = try await future.get()
        if response.type == DqliteWire.Response.failure.rawValue {
            var reader = DqliteMessageReader(response.body)
            let code = try reader.uint64()
            let message = (try? reader.text()) ?? ""
            throw DqliteError.failure(code: code, message: message)
        }
        return response
    }

    /// Sends every request before waiting for the first answer, then waits for all of them
    /// (so that the connection's answers stay matched) and returns them in order, or throws
    /// the first request's error: the requests after a failed one have run too.
    private func pipeline(_ type: DqliteWire.Request, _ builds: [(inout DqliteMessageWriter) throws -> Void]) async throws -> [DqliteResponse] {
        var futures: [EventLoopFuture<DqliteResponse>] = []
        futures.reserveCapacity(builds.count)
        var firstError: (any Error)?
        for build in builds {
            do {
                futures.append(try send(type, build))
            } catch {
                firstError = error
                break
            }
        }
        var responses: [DqliteResponse] = []
        responses.reserveCapacity(futures.count)
        for future in futures {
            do {
                responses.append(try await answer(future))
            } catch {
                if firstError == nil { firstError = error }
            }
        }
        if let firstError { throw firstError }
        return responses
    }

    private func expect(_ response: DqliteResponse, _ type: DqliteWire.Response) throws -> DqliteMessageReader {
        guard response.type == type.rawValue else {
            throw DqliteError.protocolViolation("expected response \(type), got type \(response.type)")
        }
        return DqliteMessageReader(response.body)
    }

    /// The leader this node knows: its ID and address, or `nil` if it knows none.
    public func leader() async throws -> (id: UInt64, address: String)? {
        var r = try expect(try await request(.leader) { $0.uint64(0) }, .server)
        let id = try r.uint64(), address = try r.text()
        return id == 0 || address.isEmpty ? nil : (id, address)
    }

    /// Opens database `name`; returns its ID on this connection (one per connection).
    public func open(_ name: String) async throws -> UInt32 {
        var r = try expect(try await request(.open) { w in w.text(name); w.uint64(0); w.text("") }, .db)
        return try r.uint32()
    }

    /// Runs SQL (every statement in it) with parameters.
    public func exec(db: UInt32, _ sql: String, _ parameters: [SQLValue] = []) async throws -> SQLExecResult {
        try result(try await request(.execSQL, Self.statement(db, SQLStatement(sql, parameters))))
    }

    /// Runs statements in order, all sent before the first answer is awaited (one round
    /// trip); throws the first failure once every statement has been answered.
    public func execAll(db: UInt32, _ statements: [SQLStatement]) async throws -> [SQLExecResult] {
        try await pipeline(.execSQL, statements.map { Self.statement(db, $0) }).map(result)
    }

    /// Runs a query and returns all its rows (gathered from every frame).
    public func query(db: UInt32, _ sql: String, _ parameters: [SQLValue] = []) async throws -> [SQLRow] {
        try Self.rows(try await request(.querySQL, Self.statement(db, SQLStatement(sql, parameters))))
    }

    /// Runs queries, all sent before the first answer is awaited (one round trip), and
    /// returns their rows in order.
    public func queryAll(db: UInt32, _ statements: [SQLStatement]) async throws -> [[SQLRow]] {
        try await pipeline(.querySQL, statements.map { Self.statement(db, $0) }).map(Self.rows)
    }

    /// The body of an EXEC_SQL or QUERY_SQL request: database, SQL text, parameters.
    private static func statement(_ db: UInt32, _ statement: SQLStatement) -> (inout DqliteMessageWriter) throws -> Void {
        { w in w.uint64(UInt64(db)); w.text(statement.sql); try w.parameters(statement.parameters) }
    }

    private func result(_ response: DqliteResponse) throws -> SQLExecResult {
        var r = try expect(response, .result)
        return SQLExecResult(lastInsertID: try r.int64(), rowsAffected: try r.int64())
    }

    private static func rows(_ response: DqliteResponse) throws -> [SQLRow] {
        guard response.type == DqliteWire.Response.rows.rawValue else {
            throw DqliteError.protocolViolation("expected rows, got type \(response.type)")
        }
        var rows: [SQLRow] = []
        for body in response.bodies {
            var r = DqliteMessageReader(body)
            rows += try r.rows().rows
        }
        return rows
    }

    /// The cluster's members with their roles.
    public func cluster() async throws -> [DqliteNodeInfo] {
        var r = try expect(try await request(.cluster) { $0.uint64(1) }, .servers)
        let n = try r.uint64()
        var nodes: [DqliteNodeInfo] = []
        for _ in 0..<n {
            let id = try r.uint64(), address = try r.text(), role = try r.uint64()
            nodes.append(DqliteNodeInfo(id: id, address: address, role: DqliteRole(rawValue: role) ?? .spare))
        }
        return nodes
    }

    /// Adds a node to the cluster as a spare (leader only).
    public func add(id: UInt64, address: String) async throws {
        _ = try expect(try await request(.add) { w in w.uint64(id); w.text(address) }, .empty)
    }

    /// Gives a member a role (leader only).
    public func assign(id: UInt64, role: DqliteRole) async throws {
        _ = try expect(try await request(.assign) { w in w.uint64(id); w.uint64(role.rawValue) }, .empty)
    }

    /// Removes a member (leader only).
    public func remove(id: UInt64) async throws {
        _ = try expect(try await request(.remove) { $0.uint64(id) }, .empty)
    }

    /// Hands leadership to another voter (leader only).
    public func transfer(to id: UInt64) async throws {
        _ = try expect(try await request(.transfer) { $0.uint64(id) }, .empty)
    }

    /// The node's failure domain and weight.
    public func describe() async throws -> (failureDomain: UInt64, weight: UInt64) {
        var r = try expect(try await request(.describe) { $0.uint64(0) }, .metadata)
        return (try r.uint64(), try r.uint64())
    }

    /// The files of database `name` (the main file and its WAL), as the leader holds them.
    public func dump(_ name: String) async throws -> [(name: String, bytes: [UInt8])] {
        let response = try await send(.dump) { $0.text(name) }.get()
        if response.type == DqliteWire.Response.failure.rawValue {
            // dqlite 1.11.1 writes the FILES answer's count (2) before a failed dump's code
            // and message: they follow it.
            var reader = DqliteMessageReader(response.body)
            var code = try reader.uint64()
            if code == 2, response.body.readableBytes >= 16, let real = try? reader.uint64() { code = real }
            throw DqliteError.failure(code: code, message: (try? reader.text()) ?? "")
        }
        var r = try expect(response, .files)
        let n = try r.uint64()
        var files: [(String, [UInt8])] = []
        for _ in 0..<n {
            let fileName = try r.text()
            let size = Int(try r.uint64())
            files.append((fileName, try r.bytes(size)))
            try r.skipPadding(size)
        }
        return files
    }
}

/// Parsing of "IP:PORT" node addresses.
public enum DqliteAddress {
    /// The host and port of "IP:PORT".
    public static func split(_ address: String) throws -> (host: String, port: Int) {
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]),
              (1...65535).contains(port) else {
            throw DqliteError.protocolViolation("node address \(address) is not IP:PORT")
        }
        return (String(address[..<colon]), port)
    }
}
