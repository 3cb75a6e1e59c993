/// The columns `kubectl get` shows for a resource, as kube-apiserver's printers give them
/// (each kind's strategy chooses its columns; Name and Age unless it says otherwise).
public struct TablePrinter: Sendable {
    public var columns: [TableColumn]

    public init(columns: [TableColumn]) { self.columns = columns }

    /// The Table for a list of objects; `includeObject` is `None`, `Metadata` (default) or
    /// `Object`.
    public func table(_ objects: [JSON], resourceVersion: String, continueToken: String? = nil,
                      remaining: Int64? = nil, includeObject: String) -> JSON {
        var metadata: JSON = ["resourceVersion": .string(resourceVersion)]
        if let continueToken { metadata["continue"] = .string(continueToken) }
        if let remaining, remaining > 0 { metadata["remainingItemCount"] = .int(remaining) }
        return [
            "kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": metadata,
            "columnDefinitions": .array(columns.map(\.definition)),
            "rows": .array(objects.map { row($0, includeObject: includeObject) }),
        ]
    }

    func row(_ object: JSON, includeObject: String) -> JSON {
        var row: JSON = ["cells": .array(columns.map { $0.cell(object) })]
        switch includeObject {
        case "None": break
        case "Object": row["object"] = object
        default:
            row["object"] = ["kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                             "metadata": object["metadata"] ?? .emptyObject]
        }
        return row
    }
}
