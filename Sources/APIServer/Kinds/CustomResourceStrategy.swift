/// Custom resources: objects are stored at the definition's storage version and served at the
/// version asked for (conversion `None`: only `apiVersion` changes; `Webhook`: the engine
/// converts through ``conversion`` after reads and before writes); the schema's defaults
/// apply on every write; with a status subresource the status is written only through it;
/// the schema and its CEL rules validate every write.
struct CustomResourceStrategy: ResourceStrategy {
    let resource: ResourceDescriptor
    let info: CustomResourceInfo
    /// The definition's conversion webhook; nil for conversion `None`.
    let conversion: (any ObjectConversion)?

    var validation: StructuralValidation { StructuralValidation(schema: info.schema) }

    func prepareForCreate(_ object: inout JSON) {
        if resource.hasStatusSubresource { object["status"] = nil }
        validation.applyDefaults(&object)
        if conversion == nil { object["apiVersion"] = .string(resource.group + "/" + info.storageVersion) }
    }

    func prepareForUpdate(_ object: inout JSON, old: JSON) {
        if resource.hasStatusSubresource { object["status"] = old["status"] }
        validation.applyDefaults(&object)
        if conversion == nil { object["apiVersion"] = .string(resource.group + "/" + info.storageVersion) }
    }

    func validate(_ object: JSON, old: JSON?) -> [StatusError.Cause] {
        validation.validate(object, old: old)
    }

    /// Objects are defaulted when read too, so that a default added to the schema later shows
    /// in objects stored before it.
    func present(_ object: inout JSON) {
        validation.applyDefaults(&object)
        object["apiVersion"] = .string(resource.groupVersion)
    }

    var selectableFields: [String] { info.selectableFields }

    /// The definition's printer columns, or Name and Age.
    var table: TablePrinter {
        info.printerColumns.isEmpty ? TablePrinter(columns: [.name, .age])
            : TablePrinter(columns: [.name] + info.printerColumns.compactMap(TableColumn.printerColumn))
    }
}
