/// How objects are kept in a store: JSON without `metadata.resourceVersion`, which is the
/// revision of the object's last change and set again when it is read.
public enum StoredCodec {
    /// Parses stored bytes, setting the object's resourceVersion.
    static func decode(_ value: [UInt8], key: String, revision: Int64) throws -> JSON {
        var object: JSON
        do {
            object = try JSON.parse(value)
        } catch {
            throw StatusError.internalError("stored object \(key) is not valid JSON: \(error)")
        }
        object[path: ["metadata", "resourceVersion"]] = .string(String(revision))
        return object
    }

    /// Parses a stored entry into a ``StoredObject``, its resourceVersion `revision` (by
    /// default the entry's own).
    static func decode(_ entry: StoredEntry, revision: Int64? = nil) throws -> StoredObject {
        let rv = revision ?? entry.modRevision
        return StoredObject(object: try decode(entry.value, key: entry.key, revision: rv), modRevision: rv, key: entry.key)
    }

    /// The bytes stored for an object: without resourceVersion.
    static func encode(_ object: JSON) -> [UInt8] {
        var stored = object
        stored[path: ["metadata", "resourceVersion"]] = nil
        return stored.serialized()
    }

    /// The most bytes one stored object may take (etcd's default request limit, which
    /// kube-apiserver's objects live under): a patch or apply that grows an object past it is
    /// refused, whatever the size of the request.
    public static let maximumObjectBytes = 1_572_864

    /// The stored bytes of an object that may be written; 413 for one past the limit.
    static func encodeChecked(_ object: JSON) throws -> [UInt8] {
        let bytes = encode(object)
        guard bytes.count <= maximumObjectBytes else {
            throw StatusError(code: 413, reason: "RequestEntityTooLarge",
                              message: "Request entity too large: etcdserver: request is too large (the object is \(bytes.count) bytes; at most \(maximumObjectBytes))")
        }
        return bytes
    }

    /// `object` with its resourceVersion set to `revision`.
    static func withRevision(_ object: JSON, _ revision: Int64) -> JSON {
        var object = object
        object[path: ["metadata", "resourceVersion"]] = .string(String(revision))
        return object
    }
}
