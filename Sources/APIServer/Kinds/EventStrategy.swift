/// Events: the fields `kubectl get events --field-selector` uses.
struct EventStrategy: ResourceStrategy {
    var selectableFields: [String] {
        ["involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid",
         "involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath",
         "reason", "reportingComponent", "source", "type"]
    }

    func fieldValue(_ field: String, of object: JSON) -> String {
        guard field == "source" else { return FieldSelector.value(of: field, in: object) }
        // The source component, or the reporting controller of events written without one.
        let component = FieldSelector.value(of: "source.component", in: object)
        return component.isEmpty ? FieldSelector.value(of: "reportingComponent", in: object) : component
    }

    var table: TablePrinter {
        TablePrinter(columns: [
            TableColumn("Last Seen") { .string(TableColumn.humanSince($0["lastTimestamp"]?.stringValue ?? $0["eventTime"]?.stringValue)) },
            .field("Type", ["type"], none: ""), .field("Reason", ["reason"], none: ""),
            TableColumn("Object") { object in
                .string("\((object[path: ["involvedObject", "kind"]]?.stringValue ?? "").lowercased())/\(object[path: ["involvedObject", "name"]]?.stringValue ?? "")")
            }, .field("Message", ["message"], none: "")])
    }
}
