extension JSON {
    /// A new object as the server itself creates it: kind, apiVersion, and metadata with a
    /// fresh uid and creationTimestamp.
    static func newObject(apiVersion: String, kind: String, name: String, namespace: String? = nil,
                          labels: [String: JSON] = [:]) -> JSON {
        var metadata: JSON = ["name": .string(name), "uid": .string(ResourceEngine.newUID()),
                              "creationTimestamp": .string(ResourceEngine.now())]
        if let namespace { metadata["namespace"] = .string(namespace) }
        if !labels.isEmpty { metadata["labels"] = .object(labels) }
        return ["apiVersion": .string(apiVersion), "kind": .string(kind), "metadata": metadata]
    }
}
