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
        guard case .object(var members) = object else { return }
        guard members["apiVersion"] != "v1" else { return }
        for (v1, core) in renamed {
            if let value = members.removeValue(forKey: v1) { members[core] = value }
        }
        members["apiVersion"] = "v1"
        object = .object(members)
    }

    /// The events.k8s.io/v1 form of a core/v1 Event.
    static func toEventsV1(_ object: inout JSON) {
        guard case .object(var members) = object else { return }
        guard members["apiVersion"] != "events.k8s.io/v1" else { return }
        for (v1, core) in renamed {
            if let value = members.removeValue(forKey: core) { members[v1] = value }
        }
        members["apiVersion"] = "events.k8s.io/v1"
        if members["eventTime"] == nil { members["eventTime"] = .null }
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
