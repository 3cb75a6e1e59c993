import GRPCCore
import SwiftProtobuf

/// A unary method the transport answers itself: the request's bytes go in, the reply comes
/// back through a callback. No stream channel, task or router stands between the socket and
/// the work, which is what makes the hot etcd calls (Put, Range, Txn, DeleteRange) cheap.
public protocol InlineUnaryMethod: Sendable {
    /// The method's path, `/package.Service/Method`.
    var path: String { get }
    /// Starts the call; `reply` must be called exactly once, on any thread.
    func call(_ request: [UInt8], reply: @escaping @Sendable (Result<[UInt8], RPCError>) -> Void)
}

/// An ``InlineUnaryMethod`` from protobuf messages and a function of them.
struct InlineMethod<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>: InlineUnaryMethod {
    let path: String
    let run: @Sendable (Request, _ reply: @escaping @Sendable (Result<Response, RPCError>) -> Void) -> Void

    func call(_ request: [UInt8], reply: @escaping @Sendable (Result<[UInt8], RPCError>) -> Void) {
        let decoded: Request
        do {
            decoded = try Request(serializedBytes: request)
        } catch {
            reply(.failure(RPCError(code: .invalidArgument, message: "could not decode \(Request.self): \(error)")))
            return
        }
        run(decoded) { result in
            reply(result.flatMap { response in
                do {
                    return .success(try response.serializedBytes())
                } catch {
                    return .failure(RPCError(code: .internalError, message: "could not encode \(Response.self): \(error)"))
                }
            })
        }
    }
}

extension InlineMethod {
    /// A method whose work is an async function (one task per call); its errors should be
    /// `RPCError`s.
    init(path: String, _ body: @escaping @Sendable (Request) async throws -> Response) {
        self.init(path: path) { request, reply in
            Task {
                do {
                    reply(.success(try await body(request)))
                } catch let error as RPCError {
                    reply(.failure(error))
                } catch {
                    reply(.failure(RPCError(code: .unknown, message: "\(error)")))
                }
            }
        }
    }
}
