/// PriorityClasses: `value` and `preemptionPolicy` are fixed once created (kube-apiserver's
/// update validation), and a class preempts lower ones unless it says otherwise.
struct PriorityClassStrategy: ResourceStrategy {
    func prepareForCreate(_ object: inout JSON) {
        if object["preemptionPolicy"] == nil { object["preemptionPolicy"] = "PreemptLowerPriority" }
    }

    func validate(_ object: JSON, old: JSON?) -> [StatusError.Cause] {
        guard let old else { return [] }
        var causes: [StatusError.Cause] = []
        if (object["value"] ?? .null) != (old["value"] ?? .null) {
            causes.append(.init(field: "value", type: "FieldValueForbidden", message: "Forbidden: may not be changed in an update."))
        }
        if (object["preemptionPolicy"] ?? .null) != (old["preemptionPolicy"] ?? .null) {
            causes.append(.init(field: "preemptionPolicy", type: "FieldValueInvalid", message: "Invalid value: \(String(decoding: (object["preemptionPolicy"] ?? .null).serialized(), as: UTF8.self)): field is immutable"))
        }
        return causes
    }

    var table: TablePrinter {
        TablePrinter(columns: [.name, .count("Value", ["value"]), .field("Global-Default", ["globalDefault"], none: "false"), .age,
                               .field("PreemptionPolicy", ["preemptionPolicy"])])
    }
}
