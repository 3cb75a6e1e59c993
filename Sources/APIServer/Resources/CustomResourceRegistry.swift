import Logging

/// Serves custom resources on every server: follows the CustomResourceDefinitions and, on
/// each change, puts a descriptor for every served version into the catalog and its schema
/// into the definitions (so the engine, discovery and OpenAPI serve them at once), and takes
/// away those of deleted definitions.
public final class CustomResourceRegistry: Sendable {
    static let prefix = RegistryKey.resourcePrefix(group: "apiextensions.k8s.io", resource: "customresourcedefinitions")
    static let objectMeta = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
    let objects: WatchedObjects

    public init(store: any ObjectStore, catalog: ResourceCatalog, definitions: SchemaDefinitions, logger: Logger) {
        objects = WatchedObjects(prefix: Self.prefix, store: store, logger: logger) { crds in
            Self.rebuild(crds, catalog: catalog, definitions: definitions)
        }
    }

    public func load() async throws { try await objects.load() }
    public func run() async { await objects.run() }
    public func catchUp() async { await objects.catchUp() }

    /// The definition name of a custom kind's schema, as kube-apiserver publishes it: the
    /// group's domain reversed, the version, the kind (`com.example.v1.Widget`).
    static func definitionName(group: String, version: String, kind: String) -> String {
        (group.split(separator: ".").reversed() + [Substring(version), Substring(kind)]).joined(separator: ".")
    }

    static func rebuild(_ crds: [String: JSON], catalog: ResourceCatalog, definitions: SchemaDefinitions) {
        var descriptors: [ResourceDescriptor] = []
        var schemas: [String: JSON] = [:]
        var claimed = Set<String>()
        for (_, crd) in crds.sorted(by: { $0.key < $1.key }) {
            guard let built = Self.descriptors(of: crd, builtIn: catalog) else { continue }
            let identity = (built.first?.group ?? "") + "/" + (built.first?.plural ?? "")
            guard claimed.insert(identity).inserted else { continue }
            for descriptor in built {
                descriptors.append(descriptor)
                schemas[descriptor.definition ?? ""] = rootSchema(descriptor)
            }
        }
        definitions.setCustom(schemas)
        catalog.setCustomResources(descriptors)
    }

    /// The descriptors of a definition's served versions, in Kubernetes' version priority
    /// order; `nil` when the definition is invalid or its names clash with a built-in type.
    static func descriptors(of crd: JSON, builtIn catalog: ResourceCatalog) -> [ResourceDescriptor]? {
        let spec = crd["spec"] ?? .emptyObject
        guard let group = spec["group"]?.stringValue, let plural = spec[path: ["names", "plural"]]?.stringValue,
              let kind = spec[path: ["names", "kind"]]?.stringValue, !group.isEmpty, !plural.isEmpty, !kind.isEmpty else { return nil }
        if catalog.resources.contains(where: { $0.group == group && $0.plural == plural && $0.custom == nil }) { return nil }
        let versions = spec["versions"]?.arrayValue ?? []
        guard let storage = versions.first(where: { $0["storage"]?.boolValue == true })?["name"]?.stringValue else { return nil }
        let names = spec["names"] ?? .emptyObject
        func strings(_ json: JSON?) -> [String] { (json?.arrayValue ?? []).compactMap(\.stringValue) }
        // (JSON is nil-literal expressible: a `nil` in a JSON-typed ternary would be `.null`.)
        var conversionWebhook: JSON?
        if spec[path: ["conversion", "strategy"]]?.stringValue == "Webhook" {
            conversionWebhook = spec[path: ["conversion", "webhook"]] ?? .emptyObject
        }
        var result: [ResourceDescriptor] = []
        for version in versions where version["served"]?.boolValue != false {
            guard let name = version["name"]?.stringValue else { continue }
            let schema = version[path: ["schema", "openAPIV3Schema"]] ?? ["type": "object", "x-kubernetes-preserve-unknown-fields": true]
            var subresources: [String] = []
            if version[path: ["subresources", "status"]] != nil { subresources.append("status") }
            let scale = version[path: ["subresources", "scale"]]
            if scale != nil { subresources.append("scale") }
            let selectable = (version["selectableFields"]?.arrayValue ?? []).compactMap { $0["jsonPath"]?.stringValue }
                .map { $0.hasPrefix(".") ? String($0.dropFirst()) : $0 }
            var warning: String? = nil
            if version["deprecated"]?.boolValue == true {
                warning = version["deprecationWarning"]?.stringValue ?? "\(group)/\(name) \(kind) is deprecated"
            }
            func path(_ field: String) -> [String]? {
                scale?[field]?.stringValue.map { $0.split(separator: ".").map(String.init) }
            }
            let info = CustomResourceInfo(storageVersion: storage, schema: schema,
                                          printerColumns: version["additionalPrinterColumns"]?.arrayValue ?? [],
                                          selectableFields: selectable, specReplicasPath: path("specReplicasPath"),
                                          statusReplicasPath: path("statusReplicasPath"), labelSelectorPath: path("labelSelectorPath"),
                                          deprecationWarning: warning,
                                          conversionWebhook: conversionWebhook)
            var descriptor = ResourceDescriptor(
                group: group, version: name, kind: kind, plural: plural,
                singular: names["singular"]?.stringValue ?? kind.lowercased(),
                namespaced: spec["scope"]?.stringValue != "Cluster", shortNames: strings(names["shortNames"]),
                categories: strings(names["categories"]), subresources: subresources,
                verbs: ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
                definition: definitionName(group: group, version: name, kind: kind), listDefinition: nil,
                hasSpec: true, hasStatus: schema[path: ["properties", "status"]] != nil)
            descriptor.custom = info
            result.append(descriptor)
        }
        return result.sorted { versionPriority($0.version) > versionPriority($1.version) }
    }

    /// Kubernetes' version order: GA before beta before alpha, higher numbers first, others last.
    static func versionPriority(_ version: String) -> Double {
        let pattern = /^v(\d+)(?:(alpha|beta)(\d+))?$/
        guard let match = version.wholeMatch(of: pattern), let major = Double(match.1) else { return -1 }
        guard let stage = match.2, let minor = match.3.flatMap({ Double($0) }) else { return 3_000_000 + major }
        return (stage == "beta" ? 2_000_000 : 1_000_000) + major * 1000 + minor
    }

    static let apiVersionDescription = "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources"
    static let kindDescription = "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds"
    static let metadataDescription = "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"

    /// The schema the engine and OpenAPI use for a custom kind: the definition's, with
    /// `apiVersion`, `kind` and `metadata` that every object has.
    static func rootSchema(_ descriptor: ResourceDescriptor) -> JSON {
        var schema = descriptor.custom?.schema ?? .emptyObject
        var properties = schema["properties"]?.objectValue ?? [:]
        // The descriptions the API's own definitions give these members.
        properties["apiVersion"] = ["type": "string", "description": .string(Self.apiVersionDescription)]
        properties["kind"] = ["type": "string", "description": .string(Self.kindDescription)]
        properties["metadata"] = ["$ref": .string("#/definitions/\(objectMeta)"), "description": .string(Self.metadataDescription)]
        if schema["x-kubernetes-preserve-unknown-fields"] != true || schema["properties"] != nil { schema["properties"] = .object(properties) }
        schema["x-kubernetes-group-version-kind"] = [["group": .string(descriptor.group), "version": .string(descriptor.version),
                                                      "kind": .string(descriptor.kind)]]
        return schema
    }
}
