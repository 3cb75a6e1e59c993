/// CustomResourceDefinitions: defaults (singular and list kind, conversion `None`), the
/// cleanup finalizer that holds a definition until its objects are gone, a status the
/// definition controller owns, and kube-apiserver's validation of names, versions and
/// structural schemas (CEL rules must compile).
struct CustomResourceDefinitionStrategy: ResourceStrategy {
    static let cleanupFinalizer = "customresourcecleanup.apiextensions.k8s.io"

    func prepareForCreate(_ object: inout JSON) {
        object["status"] = ["conditions": .array([]), "acceptedNames": ["plural": "", "kind": ""], "storedVersions": .array([])]
        var finalizers = object[path: ["metadata", "finalizers"]]?.arrayValue ?? []
        if !finalizers.contains(.string(Self.cleanupFinalizer)) { finalizers.append(.string(Self.cleanupFinalizer)) }
        object[path: ["metadata", "finalizers"]] = .array(finalizers)
        Self.applyDefaults(&object)
    }

    func prepareForUpdate(_ object: inout JSON, old: JSON) {
        object["status"] = old["status"]
        Self.applyDefaults(&object)
    }

    static func applyDefaults(_ object: inout JSON) {
        let kind = object[path: ["spec", "names", "kind"]]?.stringValue ?? ""
        if (object[path: ["spec", "names", "singular"]]?.stringValue ?? "").isEmpty, !kind.isEmpty {
            object[path: ["spec", "names", "singular"]] = .string(kind.lowercased())
        }
        if object[path: ["spec", "names", "listKind"]] == nil, !kind.isEmpty {
            object[path: ["spec", "names", "listKind"]] = .string(kind + "List")
        }
        if object[path: ["spec", "conversion"]] == nil { object[path: ["spec", "conversion"]] = ["strategy": "None"] }
    }

    func validate(_ object: JSON, old: JSON?) -> [StatusError.Cause] {
        var causes: [StatusError.Cause] = []
        func add(_ field: String, _ message: String, type: String = "FieldValueInvalid") {
            causes.append(.init(field: field, type: type, message: message))
        }
        let spec = object["spec"] ?? .emptyObject
        let group = spec["group"]?.stringValue ?? ""
        let names = spec["names"] ?? .emptyObject
        let plural = names["plural"]?.stringValue ?? ""
        let kind = names["kind"]?.stringValue ?? ""
        if group.isEmpty {
            add("spec.group", "Required value", type: "FieldValueRequired")
        } else if !group.contains(".") {
            add("spec.group", "Invalid value: \"\(group)\": should be a domain with at least one dot")
        }
        if plural.isEmpty {
            add("spec.names.plural", "Required value", type: "FieldValueRequired")
        } else if !NameValidation.labelErrors(plural).isEmpty {
            add("spec.names.plural", "Invalid value: \"\(plural)\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-'")
        }
        if let singular = names["singular"]?.stringValue, !singular.isEmpty, !NameValidation.labelErrors(singular).isEmpty {
            add("spec.names.singular", "Invalid value: \"\(singular)\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-'")
        }
        if kind.isEmpty { add("spec.names.kind", "Required value", type: "FieldValueRequired") }
        for (index, name) in (names["shortNames"]?.arrayValue ?? []).compactMap(\.stringValue).enumerated()
        where !NameValidation.labelErrors(name).isEmpty {
            add("spec.names.shortNames[\(index)]", "Invalid value: \"\(name)\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-'")
        }
        let name = object[path: ["metadata", "name"]]?.stringValue ?? ""
        if !plural.isEmpty, !group.isEmpty, name != "\(plural).\(group)" {
            add("metadata.name", "Invalid value: \"\(name)\": must be spec.names.plural+\".\"+spec.group")
        }
        let scope = spec["scope"]?.stringValue ?? ""
        if scope != "Namespaced" && scope != "Cluster" {
            add("spec.scope", "Unsupported value: \"\(scope)\": supported values: \"Cluster\", \"Namespaced\"", type: "FieldValueNotSupported")
        }
        let versions = spec["versions"]?.arrayValue ?? []
        if versions.isEmpty { add("spec.versions", "Invalid value: null: must have exactly one version marked as storage version") }
        var seen = Set<String>()
        for (index, version) in versions.enumerated() {
            let field = "spec.versions[\(index)]"
            let versionName = version["name"]?.stringValue ?? ""
            if !NameValidation.labelErrors(versionName).isEmpty || versionName.isEmpty {
                add("\(field).name", "Invalid value: \"\(versionName)\": a DNS-1035 label must consist of lower case alphanumeric characters or '-'")
            }
            if !seen.insert(versionName).inserted { add("\(field).name", "Duplicate value: \"\(versionName)\"", type: "FieldValueDuplicate") }
            guard let schema = version[path: ["schema", "openAPIV3Schema"]] else {
                add("\(field).schema.openAPIV3Schema", "Required value: schemas are required", type: "FieldValueRequired")
                continue
            }
            if schema["type"]?.stringValue != "object" {
                add("\(field).schema.openAPIV3Schema.type", "Unsupported value: \"\(schema["type"]?.stringValue ?? "")\": supported values: \"object\"",
                    type: "FieldValueNotSupported")
            }
            Self.structural(schema, path: "\(field).schema.openAPIV3Schema", causes: &causes)
        }
        let storage = versions.filter { $0["storage"]?.boolValue == true }.count
        if !versions.isEmpty && storage != 1 {
            add("spec.versions", "Invalid value: \(versions.count): must have exactly one version marked as storage version")
        }
        return causes
    }

    /// Structural-schema rules: every property and item declares a type (unless it is
    /// int-or-string or keeps unknown fields), and CEL rules and patterns compile.
    static func structural(_ schema: JSON, path: String, causes: inout [StatusError.Cause]) {
        if let pattern = schema["pattern"]?.stringValue, SchemaPatterns.regex(pattern) == nil {
            causes.append(.init(field: "\(path).pattern", message: "Invalid value: \"\(pattern)\": must be a valid regular expression"))
        }
        for (index, rule) in (schema["x-kubernetes-validations"]?.arrayValue ?? []).enumerated() {
            let source = rule["rule"]?.stringValue ?? ""
            do {
                _ = try CELParser.parse(source)
            } catch {
                causes.append(.init(field: "\(path).x-kubernetes-validations[\(index)].rule",
                                    message: "Invalid value: \"\(source)\": compilation failed: \(error)"))
            }
        }
        for (name, property) in (schema["properties"]?.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
            let field = "\(path).properties[\(name)]"
            if property["type"] == nil && property["x-kubernetes-int-or-string"]?.boolValue != true
                && property["x-kubernetes-preserve-unknown-fields"]?.boolValue != true {
                causes.append(.init(field: "\(field).type", type: "FieldValueRequired", message: "Required value: must not be empty for specified object fields"))
            }
            structural(property, path: field, causes: &causes)
        }
        if let items = schema["items"] {
            if items["type"] == nil && items["x-kubernetes-int-or-string"]?.boolValue != true
                && items["x-kubernetes-preserve-unknown-fields"]?.boolValue != true {
                causes.append(.init(field: "\(path).items.type", type: "FieldValueRequired", message: "Required value: must not be empty for specified array items"))
            }
            structural(items, path: "\(path).items", causes: &causes)
        }
        if let additional = schema["additionalProperties"], case .object = additional {
            structural(additional, path: "\(path).additionalProperties", causes: &causes)
        }
    }
}
