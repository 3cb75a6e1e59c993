import Foundation

/// APIServices (`apiregistration.k8s.io/v1`): the name must be `VERSION.GROUP`, the
/// priorities in range, and a Service reference complete; a local APIService (no Service)
/// has no CA bundle. The port defaults to 443. As kube-aggregator validates them.
struct APIServiceStrategy: ResourceStrategy {
    func prepareForCreate(_ object: inout JSON) { defaultPort(&object) }

    func prepareForUpdate(_ object: inout JSON, old: JSON) { defaultPort(&object) }

    private func defaultPort(_ object: inout JSON) {
        if let service = object[path: ["spec", "service"]], service.objectValue != nil, service["port"] == nil {
            object[path: ["spec", "service", "port"]] = 443
        }
    }

    /// The name is checked against the spec in ``validate(_:old:)``; here only as a path segment.
    func nameErrors(_ name: String) -> [String] { NameValidation.pathSegmentErrors(name) }

    func validate(_ object: JSON, old: JSON?) -> [StatusError.Cause] {
        var causes: [StatusError.Cause] = []
        func invalid(_ field: String, _ value: String, _ message: String) {
            causes.append(.init(field: field, type: "FieldValueInvalid", message: "Invalid value: \(value): \(message)"))
        }
        let spec = object["spec"] ?? .null
        let group = spec["group"]?.stringValue ?? ""
        let version = spec["version"]?.stringValue ?? ""
        let required = AggregatedAPIService.name(group: group, version: version)
        let name = object[path: ["metadata", "name"]]?.stringValue ?? ""
        if name != required {
            invalid("metadata.name", Self.quoted(name), "must be `spec.version+\".\"+spec.group`: \(Self.quoted(required))")
        }
        if group.isEmpty, version != "v1" {
            causes.append(.init(field: "spec.group", type: "FieldValueRequired",
                                message: "Required value: only v1 may have an empty group and it better be legacy kube"))
        }
        if !group.isEmpty {
            for error in NameValidation.subdomainErrors(group) { invalid("spec.group", Self.quoted(group), error) }
        }
        for error in NameValidation.dns1035LabelErrors(version) { invalid("spec.version", Self.quoted(version), error) }
        let groupPriority = spec["groupPriorityMinimum"]?.intValue ?? 0
        if groupPriority <= 0 || groupPriority > 20000 {
            invalid("spec.groupPriorityMinimum", String(groupPriority), "must be positive and less than 20000")
        }
        let versionPriority = spec["versionPriority"]?.intValue ?? 0
        if versionPriority <= 0 || versionPriority > 1000 {
            invalid("spec.versionPriority", String(versionPriority), "must be positive and less than 1000")
        }
        let caBundle = spec["caBundle"]?.stringValue ?? ""
        let insecure = spec["insecureSkipTLSVerify"]?.boolValue ?? false
        guard let service = spec["service"], service != .null else {
            if !caBundle.isEmpty {
                invalid("spec.caBundle", "\"\(Data(base64Encoded: caBundle)?.count ?? caBundle.count) bytes\"", "local APIServices may not have a caBundle")
            }
            if insecure { invalid("spec.insecureSkipTLSVerify", "true", "local APIServices may not have insecureSkipTLSVerify") }
            return causes
        }
        if (service["namespace"]?.stringValue ?? "").isEmpty {
            causes.append(.init(field: "spec.service.namespace", type: "FieldValueRequired", message: "Required value"))
        }
        if (service["name"]?.stringValue ?? "").isEmpty {
            causes.append(.init(field: "spec.service.name", type: "FieldValueRequired", message: "Required value"))
        }
        let port = service["port"]?.intValue ?? 443
        if !(1...65535).contains(port) {
            invalid("spec.service.port", String(port), "port is not valid: must be between 1 and 65535, inclusive")
        }
        if insecure, !caBundle.isEmpty { invalid("spec.insecureSkipTLSVerify", "true", "may not be true if caBundle is present") }
        return causes
    }

    private static func quoted(_ text: String) -> String { String(decoding: JSON.string(text).serialized(), as: UTF8.self) }

    /// kubectl's columns: the Service (or `Local`) and whether it is available, with the
    /// reason when it is not.
    var table: TablePrinter {
        TablePrinter(columns: [
            .name,
            TableColumn("Service") { object in
                guard let service = object[path: ["spec", "service"]], service != .null else { return "Local" }
                return .string((service["namespace"]?.stringValue ?? "") + "/" + (service["name"]?.stringValue ?? ""))
            },
            TableColumn("Available") { object in
                guard let condition = AggregatedAPIService.availableCondition(of: object) else { return "Unknown" }
                let status = condition["status"]?.stringValue ?? "Unknown"
                let reason = condition["reason"]?.stringValue ?? ""
                return .string(status == "True" || reason.isEmpty ? status : "\(status) (\(reason))")
            },
            .age,
        ])
    }
}
