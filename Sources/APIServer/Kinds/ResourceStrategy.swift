import Foundation

/// Everything one kind does that the generic engine does not: defaults and resets on create
/// and update, validation, the name rule, the extra fields its field selectors know, table
/// columns, what a delete answers and how it proceeds, what the object holds outside its
/// record, its own subresources, and the answer of kinds that are not stored (reviews).
/// Each group and kind registers one value in the ``KindRegistry``; the engine's verbs ask it
/// and name no kind themselves.
public protocol ResourceStrategy: Sendable {
    /// Sets what the server owns on a new object (status resets, defaults).
    func prepareForCreate(_ object: inout JSON)
    /// Carries over what an update of the main resource may not change.
    func prepareForUpdate(_ object: inout JSON, old: JSON)
    /// The object a write to the status subresource stores: `old` with the client's status
    /// and what else kube-apiserver's status strategy lets it change.
    func statusUpdate(_ object: JSON, old: JSON) -> JSON
    /// The object a write to a subresource stores (`object` carries the metadata the client
    /// may write); nil for a subresource the kind does not write this way.
    func subresourceUpdate(_ subresource: String, _ object: JSON, old: JSON) -> JSON?
    /// Errors of the object's name (empty = valid).
    func nameErrors(_ name: String) -> [String]
    /// Field selector fields beyond `metadata.name` and `metadata.namespace`.
    var selectableFields: [String] { get }
    /// A selectable field's value as field selectors compare it (kube-apiserver's field set:
    /// Go's zero value when the field is absent, derived values where it derives them).
    func fieldValue(_ field: String, of object: JSON) -> String
    /// Sets what depends on the object as admission left it (a pod's QoS class).
    func finishCreate(_ object: inout JSON)
    /// The problems of an object about to be stored (`old`: the object an update replaces).
    func validate(_ object: JSON, old: JSON?) -> [StatusError.Cause]
    /// Turns a stored object into what a request for this resource's version returns.
    func present(_ object: inout JSON)
    /// The conversion between versions that takes a call (a conversion webhook); nil when
    /// ``present(_:)`` and the prepare steps convert (or nothing does).
    var conversion: (any ObjectConversion)? { get }

    /// The columns `kubectl get` shows (server-side Table output).
    var table: TablePrinter { get }
    /// Whether DELETE answers with the deleted object rather than a success `Status` (the
    /// kinds whose kube-apiserver registry says so; clients decode the reply as such).
    var returnsDeletedObject: Bool { get }

    /// Takes what the object holds outside its own record (a Service's cluster IP and node
    /// ports), just before it is stored.
    func acquire(for object: inout JSON) async throws
    /// Gives back what ``acquire(for:)`` took, once the object is removed or was not stored.
    func release(of object: JSON) async throws

    /// Refuses the delete of an object that must stay (a 403 `Status`).
    func checkDelete(_ object: JSON) throws
    /// Whether a delete always keeps the object, marked, until it is released (namespaces
    /// turn Terminating first even without finalizers).
    var keepsUntilFinalized: Bool { get }
    /// What a marked object also records (a namespace's Terminating phase).
    func prepareForDeletion(_ object: inout JSON)
    /// The finalizers that still hold a marked object (a namespace's spec finalizers count).
    func pendingFinalizers(of object: JSON) -> [String]

    /// The code that serves a subresource of its own (scale, token); nil when the generic
    /// get, update and patch of the object serve it (status).
    func subresource(_ name: String) -> (any SubresourceHandler)?
    /// The answer to a create of a kind that is not stored (reviews, bindings); nil for
    /// stored kinds.
    func answerCreate(_ object: JSON, _ request: ResourceRequest, engine: ResourceEngine) async throws -> HTTPResponse?
}

extension ResourceStrategy {
    public func prepareForCreate(_ object: inout JSON) {}
    public func prepareForUpdate(_ object: inout JSON, old: JSON) {}
    public func finishCreate(_ object: inout JSON) {}
    public var table: TablePrinter { TablePrinter(columns: [.name, .age]) }
    public var returnsDeletedObject: Bool { false }
    public func acquire(for object: inout JSON) async throws {}
    public func release(of object: JSON) async throws {}
    public func checkDelete(_ object: JSON) throws {}
    public var keepsUntilFinalized: Bool { false }
    public func prepareForDeletion(_ object: inout JSON) {}
    public func pendingFinalizers(of object: JSON) -> [String] {
        (object[path: ["metadata", "finalizers"]]?.arrayValue ?? []).compactMap(\.stringValue)
    }
    /// A kind with a scale subresource serves it as an autoscaling/v1 Scale of its replicas.
    public func subresource(_ name: String) -> (any SubresourceHandler)? { name == "scale" ? ScaleSubresource() : nil }
    public func answerCreate(_ object: JSON, _ request: ResourceRequest, engine: ResourceEngine) async throws -> HTTPResponse? { nil }
    public func validate(_ object: JSON, old: JSON?) -> [StatusError.Cause] { [] }
    public func present(_ object: inout JSON) {}
    public var conversion: (any ObjectConversion)? { nil }
    public func nameErrors(_ name: String) -> [String] { NameValidation.subdomainErrors(name) }
    public var selectableFields: [String] { [] }
    public func fieldValue(_ field: String, of object: JSON) -> String { FieldSelector.value(of: field, in: object) }
    public func subresourceUpdate(_ subresource: String, _ object: JSON, old: JSON) -> JSON? {
        subresource == "status" ? statusUpdate(object, old: old) : nil
    }

    /// Most status strategies reset only the spec: labels, annotations, finalizers and owner
    /// references written through `/status` are kept.
    public func statusUpdate(_ object: JSON, old: JSON) -> JSON {
        statusUpdate(object, old: old, keeping: ["labels", "annotations", "finalizers", "ownerReferences"])
    }

    /// `old` with the client's status and the client's values of these metadata members.
    func statusUpdate(_ object: JSON, old: JSON, keeping metadata: [String]) -> JSON {
        var new = old
        new["status"] = object["status"]
        for key in metadata { new[path: ["metadata", key]] = object[path: ["metadata", key]] }
        return new
    }
}

/// A subresource served by code of its own rather than by the generic verbs of the object.
public protocol SubresourceHandler: Sendable {
    func serve(_ request: ResourceRequest, engine: ResourceEngine) async throws -> HTTPResponse
}

extension SubresourceHandler {
    /// The name a create-only subresource (`binding`, `eviction`) addresses and the object
    /// posted to it: 405 for another verb, 400 when the object names another object.
    func posted(_ request: ResourceRequest, kind: String) throws -> (name: String, object: JSON) {
        guard request.info.verb == .create else {
            throw StatusError.methodNotAllowed("the server does not allow this method on the requested resource")
        }
        let name = try request.name()
        let object = try request.bodyObject()
        if let named = object[path: ["metadata", "name"]]?.stringValue, !named.isEmpty, named != name {
            throw StatusError.badRequest("name in URL does not match name in \(kind) object")
        }
        return (name, object)
    }
}
