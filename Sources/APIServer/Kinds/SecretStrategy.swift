import Foundation

/// Secrets: the type defaults to Opaque and is a selectable field; `stringData` is a
/// write-only convenience merged into `data` (base64) and never stored.
struct SecretStrategy: ResourceStrategy {
    func prepareForCreate(_ object: inout JSON) {
        if object["type"] == nil { object["type"] = "Opaque" }
        Self.mergeStringData(&object)
    }

    func prepareForUpdate(_ object: inout JSON, old: JSON) {
        Self.mergeStringData(&object)
    }

    static func mergeStringData(_ object: inout JSON) {
        guard let strings = object["stringData"]?.objectValue else { return }
        var data = object["data"]?.objectValue ?? [:]
        for (key, value) in strings {
            data[key] = .string(Data((value.stringValue ?? "").utf8).base64EncodedString())
        }
        object["data"] = .object(data)
        object["stringData"] = nil
    }

    var selectableFields: [String] { ["type"] }

    func validate(_ object: JSON, old: JSON?) -> [StatusError.Cause] {
        ConfigDataValidation.causes(object, fields: ["data"], kind: "Secret")
    }

    var table: TablePrinter {
        TablePrinter(columns: [.name, .field("Type", ["type"]), TableColumn("Data", type: "integer") {
            .int(Int64($0["data"]?.objectValue?.count ?? 0))
        }, .age])
    }
}
