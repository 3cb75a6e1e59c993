import Foundation

/// Who owns which fields of an object (`metadata.managedFields`): one entry per manager,
/// operation (Apply or Update), API version and subresource, each with its FieldsV1 set.
/// Updates move the fields they change to their manager; server-side apply merges a
/// manager's configuration, refuses to change fields other managers own (409) unless forced,
/// and removes fields the manager stops applying when no one else owns them.
public struct ManagedFields: Sendable {
    public struct Entry: Sendable, Equatable {
        public var manager: String
        public var operation: String
        public var apiVersion: String
        public var subresource: String
        public var time: String
        public var fields: Set<FieldPath>

        var json: JSON {
            var entry: JSON = ["manager": .string(manager), "operation": .string(operation), "apiVersion": .string(apiVersion),
                               "time": .string(time), "fieldsType": "FieldsV1", "fieldsV1": FieldPaths.fieldsV1(fields)]
            if !subresource.isEmpty { entry["subresource"] = .string(subresource) }
            return entry
        }

        init(manager: String, operation: String, apiVersion: String, subresource: String, time: String, fields: Set<FieldPath>) {
            self.manager = manager
            self.operation = operation
            self.apiVersion = apiVersion
            self.subresource = subresource
            self.time = time
            self.fields = fields
        }

        init?(_ json: JSON) {
            guard let manager = json["manager"]?.stringValue, let operation = json["operation"]?.stringValue else { return nil }
            self.init(manager: manager, operation: operation, apiVersion: json["apiVersion"]?.stringValue ?? "",
                      subresource: json["subresource"]?.stringValue ?? "", time: json["time"]?.stringValue ?? "",
                      fields: FieldPaths.paths(fromFieldsV1: json["fieldsV1"] ?? .emptyObject))
        }

        func same(_ other: Entry) -> Bool {
            manager == other.manager && operation == other.operation && apiVersion == other.apiVersion && subresource == other.subresource
        }
    }

    public var entries: [Entry]

    public init(of object: JSON?) {
        entries = (object?[path: ["metadata", "managedFields"]]?.arrayValue ?? []).compactMap(Entry.init)
    }

    /// Writes the entries into an object's metadata (none: the field is removed).
    public func write(into object: inout JSON) {
        let live = entries.filter { !$0.fields.isEmpty }
        object[path: ["metadata", "managedFields"]] = live.isEmpty ? nil : .array(live.map(\.json))
    }

    /// The default manager name of a request without `fieldManager`: the user agent up to
    /// its first `/`, as kube-apiserver names it.
    public static func defaultManager(userAgent: String?) -> String {
        let agent = userAgent.map { String($0.prefix(while: { $0 != "/" })) } ?? ""
        return agent.isEmpty ? "unknown" : String(agent.prefix(128))
    }

    // MARK: Update

    /// Records a create, update or patch: the fields that differ between `old` and `new` now
    /// belong to `manager`'s Update entry; fields the write removed belong to no one.
    public static func recordUpdate(old: JSON?, new: inout JSON, manager: String, apiVersion: String, subresource: String,
                                    schema: SchemaNode?) {
        let clientChanged = new[path: ["metadata", "managedFields"]] != old?[path: ["metadata", "managedFields"]]
            && new[path: ["metadata", "managedFields"]] != nil
        var managed = ManagedFields(of: clientChanged ? new : old)
        let newLeaves = FieldPaths.leaves(of: new, schema: schema)
        let oldLeaves = old.map { FieldPaths.leaves(of: $0, schema: schema) } ?? [:]
        let changed = Set(newLeaves.keys.filter { newLeaves[$0] != oldLeaves[$0] })
        let removed = Set(oldLeaves.keys).subtracting(newLeaves.keys)
        for i in managed.entries.indices {
            managed.entries[i].fields.subtract(removed)
            managed.entries[i].fields.subtract(changed)
        }
        if !changed.isEmpty {
            let entry = Entry(manager: manager, operation: "Update", apiVersion: apiVersion, subresource: subresource,
                              time: RFC3339.string(Date()), fields: changed)
            if let index = managed.entries.firstIndex(where: { $0.same(entry) }) {
                managed.entries[index].fields.formUnion(changed)
                managed.entries[index].time = entry.time
            } else {
                managed.entries.append(entry)
            }
        }
        managed.write(into: &new)
    }

    // MARK: Apply

    /// One field another manager owns with a different value.
    public struct Conflict: Sendable {
        public var manager: String
        public var apiVersion: String
        public var path: FieldPath
    }

    /// Server-side apply of `config` by `manager` onto `live` (nil: create). Returns the new
    /// object, or throws a 409 listing the conflicts unless `force`.
    public static func apply(_ config: JSON, to live: JSON?, manager: String, apiVersion: String, force: Bool,
                             schema: SchemaNode?) throws -> JSON {
        var managed = ManagedFields(of: live)
        let configLeaves = FieldPaths.leaves(of: config, schema: schema)
        let applied = Set(configLeaves.keys)
        let current = live ?? .emptyObject
        let liveLeaves = FieldPaths.leaves(of: current, schema: schema)
        var conflicts: [Conflict] = []
        for entry in managed.entries where !(entry.manager == manager && entry.operation == "Apply") {
            for path in entry.fields.intersection(applied) {
                if configLeaves[path] != liveLeaves[path] {
                    conflicts.append(Conflict(manager: entry.manager, apiVersion: entry.apiVersion, path: path))
                }
            }
        }
        if !conflicts.isEmpty {
            guard force else { throw conflictError(conflicts) }
            for conflict in conflicts {
                for i in managed.entries.indices where managed.entries[i].manager == conflict.manager {
                    managed.entries[i].fields.remove(conflict.path)
                }
            }
        }
        let mine = managed.entries.firstIndex { $0.manager == manager && $0.operation == "Apply" && $0.subresource.isEmpty }
        let previous = mine.map { managed.entries[$0].fields } ?? []
        let ownedByOthers = managed.entries.enumerated().filter { $0.offset != mine }.reduce(into: Set<FieldPath>()) {
            $0.formUnion($1.element.fields)
        }
        var result = current
        for path in previous.subtracting(applied).subtracting(ownedByOthers).sorted(by: { $0.count > $1.count }) {
            result = ObjectMerge.remove(path, from: result, schema: schema)
        }
        result = ObjectMerge.merge(config, into: result, schema: schema)
        var entry = Entry(manager: manager, operation: "Apply", apiVersion: apiVersion, subresource: "",
                          time: RFC3339.string(Date()), fields: applied)
        if let mine {
            // The time moves only when the manager's fields change.
            if managed.entries[mine].fields == applied && managed.entries[mine].apiVersion == apiVersion {
                entry.time = managed.entries[mine].time
            }
            managed.entries[mine] = entry
        } else {
            managed.entries.append(entry)
        }
        managed.write(into: &result)
        return result
    }

    static func conflictError(_ conflicts: [Conflict]) -> StatusError {
        func field(_ path: FieldPath) -> String {
            path.map { step in
                if step.hasPrefix("f:") { return "." + step.dropFirst(2) }
                if step.hasPrefix("k:") || step.hasPrefix("v:") { return "[" + step.dropFirst(2) + "]" }
                return ""
            }.joined()
        }
        let sorted = conflicts.sorted { field($0.path) < field($1.path) }
        let lines = sorted.map { "conflict with \"\($0.manager)\" using \($0.apiVersion): \(field($0.path))" }
        let message = "Apply failed with \(conflicts.count) conflict\(conflicts.count == 1 ? "" : "s"): " + lines.joined(separator: "\n")
        return StatusError(code: 409, reason: "Conflict", message: message, details: [
            "causes": .array(sorted.map {
                ["reason": "FieldManagerConflict", "message": .string("conflict with \"\($0.manager)\" using \($0.apiVersion)"),
                 "field": .string(field($0.path))]
            }),
        ])
    }
}
