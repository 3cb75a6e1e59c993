/// ConfigMaps: keys and size checked as kube-apiserver checks them.
struct ConfigMapStrategy: ResourceStrategy {
    func validate(_ object: JSON, old: JSON?) -> [StatusError.Cause] {
        ConfigDataValidation.causes(object, fields: ["data", "binaryData"], kind: "ConfigMap")
    }

    var table: TablePrinter {
        TablePrinter(columns: [.name, TableColumn("Data", type: "integer") {
            .int(Int64(($0["data"]?.objectValue?.count ?? 0) + ($0["binaryData"]?.objectValue?.count ?? 0)))
        }, .age])
    }
}
