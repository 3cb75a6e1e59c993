/// events.k8s.io/v1 Events: the same objects as core/v1 Events, stored once in the core form
/// (as kube-apiserver stores them) and converted on the way in and out, so that an event
/// written through either API is read through both.
struct EventsV1Strategy: ResourceStrategy {
    /// events.k8s.io/v1 member → core/v1 member.
    static let renamed: [(String, String)] = [
        ("regarding", "involvedObject"), ("note", "message"), ("deprecatedSource", "source"),
        ("deprecatedFirstTimestamp", "firstTimestamp"), ("deprecatedLastTimestamp", "lastTimestamp"),
        ("deprecatedCount", "count"), ("reportingController", "reportingComponent"),
    ]

    /// The core/v1 form of an events.k8s.io/v1 Event.
    static func toCore(_ object: inout JSON) {
        convert(&object, to: "v1", renaming: renamed)
    }

    /// The events.k8s.io/v1 form of a core/v1 Event.
    static func toEventsV1(_ object: inout JSON) {
        convert(&object, to: "events.k8s.io/v1", renaming: renamed.map { ($1, $0) })
        if object["eventTime"] == nil { object["eventTime"] = .null }
    }

    /// Renames members (from, to) and sets the apiVersion, unless already in that version.
    static func convert(_ object: inout JSON, to apiVersion: String, renaming: [(String, String)]) {
        guard case .object(var members) = object, members["apiVersion"] != .string(apiVersion) else { return }
        for (from, to) in renaming {
            if let value = members.removeValue(forKey: from) { members[to] = value }
        }
        members["apiVersion"] = .string(apiVersion)
        object = .object(members)
    }

    func prepareForCreate(_ object: inout JSON) { Self.toCore(&object) }
    func prepareForUpdate(_ object: inout JSON, old: JSON) { Self.toCore(&object) }
    func present(_ object: inout JSON) { Self.toEventsV1(&object) }

    /// kube-apiserver's field labels for events.k8s.io, read from the stored core form.
    static let fieldLabels: [String: String] = [
        "reason": "reason", "type": "type", "reportingController": "reportingComponent",
        "regarding.kind": "involvedObject.kind", "regarding.namespace": "involvedObject.namespace",
        "regarding.name": "involvedObject.name", "regarding.uid": "involvedObject.uid",
        "regarding.apiVersion": "involvedObject.apiVersion", "regarding.resourceVersion": "involvedObject.resourceVersion",
        "regarding.fieldPath": "involvedObject.fieldPath",
    ]
    var selectableFields: [String] { Array(Self.fieldLabels.keys) }
    func fieldValue(_ field: String, of object: JSON) -> String {
        FieldSelector.value(of: Self.fieldLabels[field] ?? field, in: object)
    }
}
