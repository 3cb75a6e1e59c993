/// Nodes: `spec.unschedulable` is selectable; status is the kubelet's.
struct NodeStrategy: ResourceStrategy {
    /// Reaches kubelets (`nodes/NAME/proxy`).
    var relay: BackendRelay? = nil

    func subresource(_ name: String) -> (any SubresourceHandler)? {
        name == "proxy" ? ProxySubresource(target: .node, relay: relay) : nil
    }

    func prepareForUpdate(_ object: inout JSON, old: JSON) { object["status"] = old["status"] }
    var selectableFields: [String] { ["spec.unschedulable"] }

    func fieldValue(_ field: String, of object: JSON) -> String {
        guard field == "spec.unschedulable" else { return FieldSelector.value(of: field, in: object) }
        return object[path: ["spec", "unschedulable"]]?.boolValue == true ? "true" : "false"
    }

    var table: TablePrinter {
        TablePrinter(columns: [.name, TableColumn("Status") { object in
            let ready = (object[path: ["status", "conditions"]]?.arrayValue ?? []).first { $0["type"]?.stringValue == "Ready" }
            return .string(ready?["status"]?.stringValue == "True" ? "Ready" : "NotReady")
        }, TableColumn("Roles") { _ in "<none>" }, .age, .field("Version", ["status", "nodeInfo", "kubeletVersion"], none: "")])
    }
}
