import NIOHTTP1

/// A failed API request, answered as a Kubernetes `Status` object with the HTTP code, the
/// machine-readable `reason` and the `details` that clients match on.
public struct StatusError: Error, Sendable, CustomStringConvertible {
    public var code: Int
    public var reason: String
    public var message: String
    public var details: JSON?
    /// The `Status`'s list metadata (an expired list's `continue` for an inconsistent list).
    public var metadata: JSON = .emptyObject

    public init(code: Int, reason: String, message: String, details: JSON? = nil) {
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
    }

    public var description: String { "\(code) \(reason): \(message)" }

    /// The `Status` object.
    public var status: JSON {
        var status: JSON = [
            "kind": "Status", "apiVersion": "v1", "metadata": metadata, "status": "Failure",
            "message": .string(message), "reason": .string(reason), "code": .int(Int64(code)),
        ]
        if let details { status["details"] = details }
        return status
    }

    /// The HTTP response carrying the `Status`.
    public var response: HTTPResponse { .json(HTTPResponseStatus(statusCode: code), status) }

    // MARK: The errors the API server gives

    static func objectDetails(_ resource: ResourceDescriptor?, name: String?) -> JSON {
        var details = JSON.emptyObject
        if let name, !name.isEmpty { details["name"] = .string(name) }
        if let resource {
            if !resource.group.isEmpty { details["group"] = .string(resource.group) }
            details["kind"] = .string(resource.plural)
        }
        return details
    }

    static func resourceText(_ resource: ResourceDescriptor) -> String {
        resource.group.isEmpty ? resource.plural : "\(resource.plural).\(resource.group)"
    }

    public static func notFound(_ resource: ResourceDescriptor, name: String) -> StatusError {
        StatusError(code: 404, reason: "NotFound", message: "\(resourceText(resource)) \"\(name)\" not found",
                    details: objectDetails(resource, name: name))
    }

    public static func alreadyExists(_ resource: ResourceDescriptor, name: String) -> StatusError {
        StatusError(code: 409, reason: "AlreadyExists", message: "\(resourceText(resource)) \"\(name)\" already exists",
                    details: objectDetails(resource, name: name))
    }

    public static func conflict(_ resource: ResourceDescriptor, name: String, why: String =
        "the object has been modified; please apply your changes to the latest version and try again") -> StatusError {
        StatusError(code: 409, reason: "Conflict",
                    message: "Operation cannot be fulfilled on \(resourceText(resource)) \"\(name)\": \(why)",
                    details: objectDetails(resource, name: name))
    }

    /// One invalid field, as `Status.details.causes` lists it.
    public struct Cause: Sendable {
        public var field: String
        public var type: String
        public var message: String
        public init(field: String, type: String = "FieldValueInvalid", message: String) {
            self.field = field
            self.type = type
            self.message = message
        }
    }

    public static func invalid(kind: String, group: String, name: String, causes: [Cause]) -> StatusError {
        let text = causes.map { "\($0.field): \($0.message)" }
        let summary = text.count == 1 ? text[0] : "[" + text.joined(separator: ", ") + "]"
        var details: JSON = ["kind": .string(kind), "causes": .array(causes.map {
            ["reason": .string($0.type), "message": .string($0.message), "field": .string($0.field)]
        })]
        if !name.isEmpty { details["name"] = .string(name) }
        if !group.isEmpty { details["group"] = .string(group) }
        return StatusError(code: 422, reason: "Invalid", message: "\(kind) \"\(name)\" is invalid: \(summary)", details: details)
    }

    public static func badRequest(_ message: String) -> StatusError {
        StatusError(code: 400, reason: "BadRequest", message: message)
    }

    public static let unauthorized = StatusError(code: 401, reason: "Unauthorized", message: "Unauthorized")

    public static func forbidden(_ message: String) -> StatusError {
        StatusError(code: 403, reason: "Forbidden", message: message)
    }

    public static func methodNotAllowed(_ message: String) -> StatusError {
        StatusError(code: 405, reason: "MethodNotAllowed", message: message)
    }

    public static func notAcceptable(_ message: String) -> StatusError {
        StatusError(code: 406, reason: "NotAcceptable", message: message)
    }

    public static func unsupportedMediaType(_ contentType: String) -> StatusError {
        StatusError(code: 415, reason: "UnsupportedMediaType", message: "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf")
    }

    public static func expired(_ message: String) -> StatusError {
        StatusError(code: 410, reason: "Expired", message: message)
    }

    public static func gone(_ message: String) -> StatusError {
        StatusError(code: 410, reason: "Gone", message: message)
    }

    public static func requestEntityTooLarge(limit: Int) -> StatusError {
        StatusError(code: 413, reason: "RequestEntityTooLarge", message: "Request entity too large: limit is \(limit)")
    }

    public static func notFoundPath(_ path: String) -> StatusError {
        StatusError(code: 404, reason: "NotFound", message: "the server could not find the requested resource",
                    details: ["causes": [["reason": "UnexpectedServerResponse", "message": .string("404 page not found: \(path)")]]])
    }

    public static func internalError(_ message: String) -> StatusError {
        StatusError(code: 500, reason: "InternalError", message: "Internal error occurred: \(message)",
                    details: ["causes": [["message": .string(message)]]])
    }

    public static func timeout(_ message: String) -> StatusError {
        StatusError(code: 504, reason: "Timeout", message: message)
    }

    public static func serviceUnavailable(_ message: String) -> StatusError {
        StatusError(code: 503, reason: "ServiceUnavailable", message: message)
    }

    public static func tooManyRequests(_ message: String) -> StatusError {
        StatusError(code: 429, reason: "TooManyRequests", message: message)
    }
}
