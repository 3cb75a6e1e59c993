import Crypto
import Foundation
import OpenAPIDocuments

/// The OpenAPI documents served at `/openapi/v2` and `/openapi/v3/...`, built from the
/// generated schemas in `openapi/` and the resource catalog: the schemas of every served
/// kind, and a path with its operations (tagged with the group-version-kind and the
/// `fieldValidation`, `dryRun` and `fieldManager` parameters) for every resource.
public struct OpenAPIBuilder: Sendable {
    /// Every schema by definition name, `$ref`s in the v2 form `#/definitions/NAME`.
    let definitions: [String: JSON]
    let catalog: ResourceCatalog
    /// The v3 document of each group version, by its path (`api/v1`, `apis/apps/v1`).
    public let v3Documents: [String: [UInt8]]
    /// The v3 root: each group version's path and hashed URL.
    public let v3Root: JSON
    /// The v2 document.
    public let v2Document: [UInt8]
    /// The v2 document as gnostic protobuf (what kubectl's client-side validation reads).
    public let v2Protobuf: [UInt8]

    /// The structural schemas of `openapi/definitions.json`.
    public static func loadDefinitions() throws -> [String: JSON] {
        try JSON.parse(Array(try OpenAPIDocuments.definitions()))["definitions"]?.objectValue ?? [:]
    }

    public init(catalog: ResourceCatalog, definitions: [String: JSON]) throws {
        self.definitions = definitions
        self.catalog = catalog
        var documents: [String: [UInt8]] = [:]
        var root: [String: JSON] = [:]
        var allPaths: [String: JSON] = [:]
        for group in catalog.groups {
            for version in group.versions {
                let resources = catalog.resources(group: group.name, version: version)
                let base = group.name.isEmpty ? "api/\(version)" : "apis/\(group.name)/\(version)"
                var paths: [String: JSON] = [:]
                var names = Set<String>()
                for r in resources {
                    for (path, item) in Self.paths(for: r, base: base, v3: true) { paths[path] = item }
                    for (path, item) in Self.paths(for: r, base: base, v3: false) { allPaths[path] = item }
                    if let d = r.definition { names.insert(d) }
                    if let d = r.listDefinition { names.insert(d) }
                    for sub in r.subresources where !RequestInfo.connectSubresources.contains(sub) { names.insert(r.subresourceKind(sub).definition) }
                }
                names.formUnion(["io.k8s.apimachinery.pkg.apis.meta.v1.Status", "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions",
                                 "io.k8s.api.autoscaling.v1.Scale", "io.k8s.apimachinery.pkg.apis.meta.v1.Patch"])
                let schemas = Self.closure(of: names, in: definitions).mapValues(Self.v3Schema)
                let document: JSON = ["openapi": "3.0.0", "info": ["title": "Kubernetes", "version": .string(SkiffVersion.gitVersion)],
                                      "paths": .object(paths), "components": ["schemas": .object(schemas)]]
                let bytes = document.serialized()
                let hash = SHA512.hash(data: bytes).prefix(32).map { String(format: "%02X", $0) }.joined()
                documents[base] = bytes
                root[base] = ["serverRelativeURL": .string("/openapi/v3/\(base)?hash=\(hash)")]
            }
        }
        v3Documents = documents
        v3Root = ["paths": .object(root)]
        // Custom kinds are published in v2 as kube-apiserver publishes them there.
        var v2Definitions = definitions
        for r in catalog.resources {
            guard let custom = r.custom, let name = r.definition, let schema = definitions[name] else { continue }
            v2Definitions[name] = Self.v2CustomSchema(schema, preservesUnknownFields: custom.schema["x-kubernetes-preserve-unknown-fields"] == true)
        }
        let v2: JSON = ["swagger": "2.0", "info": ["title": "Kubernetes", "version": .string(SkiffVersion.gitVersion)],
                        "paths": .object(allPaths), "definitions": .object(v2Definitions)]
        v2Document = v2.serialized()
        v2Protobuf = OpenAPIV2Protobuf.document(title: "Kubernetes", version: SkiffVersion.gitVersion, definitions: v2Definitions)
    }

    /// A custom kind's schema in OpenAPI v2: a root that keeps unknown fields is only an object
    /// (kubectl would refuse any field a v2 schema leaves out); otherwise what v2 cannot say
    /// is taken out (allOf, oneOf, anyOf, not; nullable members lose their type and are not
    /// required; members that keep unknown fields lose their properties and items).
    static func v2CustomSchema(_ schema: JSON, preservesUnknownFields: Bool) -> JSON {
        if preservesUnknownFields {
            var root: JSON = ["type": "object"]
            root["x-kubernetes-group-version-kind"] = schema["x-kubernetes-group-version-kind"]
            return root
        }
        return v2Structural(schema)
    }

    static func v2Structural(_ node: JSON) -> JSON {
        guard case .object(var members) = node else { return node }
        for key in ["allOf", "oneOf", "anyOf", "not"] { members[key] = nil }
        if members["nullable"] == true {
            for key in ["type", "nullable", "items", "properties"] { members[key] = nil }
        }
        if members["x-kubernetes-preserve-unknown-fields"] == true {
            members["items"] = nil
            members["properties"] = nil
            if members["type"] == "object" { members["type"] = nil }
        }
        if members["items"] == nil, members["type"] == "array" { members["type"] = nil }
        if case .object(let properties)? = members["properties"] {
            let nullable = Set(properties.filter { $0.value["nullable"] == true }.keys)
            if !nullable.isEmpty, let required = members["required"]?.arrayValue {
                let kept = required.filter { !nullable.contains($0.stringValue ?? "") }
                members["required"] = kept.isEmpty ? nil : .array(kept)
            }
            members["properties"] = .object(properties.mapValues(v2Structural))
        }
        if let items = members["items"] { members["items"] = v2Structural(items) }
        if let additional = members["additionalProperties"], case .object = additional {
            if additional["nullable"] == true { members["required"] = nil }
            members["additionalProperties"] = v2Structural(additional)
        }
        return .object(members)
    }

    /// Every definition reachable from `names`.
    static func closure(of names: Set<String>, in definitions: [String: JSON]) -> [String: JSON] {
        var result: [String: JSON] = [:]
        var pending = Array(names)
        while let name = pending.popLast() {
            guard result[name] == nil, let schema = definitions[name] else { continue }
            result[name] = schema
            collectRefs(schema, into: &pending)
        }
        return result
    }

    static func collectRefs(_ node: JSON, into names: inout [String]) {
        switch node {
        case .object(let members):
            if let ref = members["$ref"]?.stringValue { names.append(String(ref.split(separator: "/").last ?? "")) }
            for value in members.values { collectRefs(value, into: &names) }
        case .array(let elements):
            for element in elements { collectRefs(element, into: &names) }
        default: break
        }
    }

    /// A schema in the v3 form: refs to `#/components/schemas/`, a ref with siblings wrapped
    /// in `allOf` (siblings of `$ref` are ignored in OpenAPI 3.0).
    static func v3Schema(_ node: JSON) -> JSON {
        switch node {
        case .object(var members):
            if let ref = members["$ref"]?.stringValue {
                let v3Ref = JSON.string(ref.replacingOccurrences(of: "#/definitions/", with: "#/components/schemas/"))
                if members.count == 1 { return ["$ref": v3Ref] }
                members["$ref"] = nil
                members["allOf"] = [["$ref": v3Ref]]
            }
            return .object(members.mapValues(v3Schema))
        case .array(let elements): return .array(elements.map(v3Schema))
        default: return node
        }
    }

    /// The paths of a resource: its collection and its objects (and subresources).
    static func paths(for r: ResourceDescriptor, base: String, v3: Bool) -> [String: JSON] {
        let prefix = "/" + base + (r.namespaced ? "/namespaces/{namespace}" : "") + "/" + r.plural
        let gvk: JSON = ["group": .string(r.group), "version": .string(r.version), "kind": .string(r.kind)]
        let refBase = v3 ? "#/components/schemas/" : "#/definitions/"
        func response(_ definition: String?) -> JSON {
            let schema: JSON = definition.map { ["$ref": .string(refBase + $0)] } ?? ["type": "object"]
            if v3 { return ["200": ["description": "OK", "content": ["application/json": ["schema": schema]]]] }
            return ["200": ["description": "OK", "schema": schema]]
        }
        func query(_ name: String, _ type: String = "string") -> JSON {
            v3 ? ["name": .string(name), "in": "query", "schema": ["type": .string(type)]]
               : ["name": .string(name), "in": "query", "type": .string(type)]
        }
        func body(_ definition: String?) -> JSON {
            let schema: JSON = definition.map { ["$ref": .string(refBase + $0)] } ?? ["type": "object"]
            // A patch body is one of the four patch media types, as kube-apiserver documents it.
            let types = definition == "io.k8s.apimachinery.pkg.apis.meta.v1.Patch"
                ? ["application/apply-patch+yaml", "application/json-patch+json", "application/merge-patch+json",
                   "application/strategic-merge-patch+json"]
                : ["application/json"]
            var content = JSON.emptyObject
            for type in types { content[type] = ["schema": schema] }
            return v3 ? ["content": content, "required": true] : .null
        }
        let writeParameters: [JSON] = [query("dryRun"), query("fieldManager"), query("fieldValidation")]
        let listParameters: [JSON] = [query("labelSelector"), query("fieldSelector"), query("limit", "integer"), query("continue"),
                                      query("resourceVersion"), query("resourceVersionMatch"), query("watch", "boolean"),
                                      query("allowWatchBookmarks", "boolean"), query("sendInitialEvents", "boolean"),
                                      query("timeoutSeconds", "integer")]
        func operation(_ action: String, _ parameters: [JSON], _ definition: String?, body bodyDefinition: String? = nil) -> JSON {
            var op: JSON = ["operationId": .string("\(action)\(r.kind)"), "x-kubernetes-action": .string(action),
                            "x-kubernetes-group-version-kind": gvk, "parameters": .array(parameters),
                            "responses": response(definition)]
            if let bodyDefinition {
                if v3 {
                    op["requestBody"] = body(bodyDefinition)
                } else {
                    op["parameters"] = .array(parameters + [["name": "body", "in": "body", "required": true,
                                                             "schema": ["$ref": .string(refBase + bodyDefinition)]]])
                }
            }
            return op
        }
        // Path parameters are declared once per path, as kube-apiserver declares them, with `pretty`.
        func pathParameter(_ name: String, _ description: String) -> JSON {
            var parameter: JSON = ["name": .string(name), "in": "path", "required": true, "description": .string(description)]
            if v3 { parameter["schema"] = ["type": "string", "uniqueItems": true] } else { parameter["type"] = "string"; parameter["uniqueItems"] = true }
            return parameter
        }
        let namespaceParameter = pathParameter("namespace", "object name and auth scope, such as for teams and projects")
        let scope: [JSON] = (r.namespaced ? [namespaceParameter] : []) + [query("pretty")]
        let named: [JSON] = [pathParameter("name", "name of the \(r.kind)")] + scope
        var paths: [String: JSON] = [:]
        let verbs = Set(r.verbs)
        var collection = JSON.emptyObject
        if verbs.contains("list") { collection["get"] = operation("list", listParameters, r.listDefinition) }
        if verbs.contains("create") { collection["post"] = operation("post", writeParameters, r.definition, body: r.definition) }
        if verbs.contains("deletecollection") { collection["delete"] = operation("deletecollection", listParameters, "io.k8s.apimachinery.pkg.apis.meta.v1.Status") }
        if collection != .emptyObject {
            collection["parameters"] = .array(scope)
            paths[prefix] = collection
        }
        var item = JSON.emptyObject
        if verbs.contains("get") { item["get"] = operation("get", [], r.definition) }
        if verbs.contains("update") { item["put"] = operation("put", writeParameters, r.definition, body: r.definition) }
        if verbs.contains("patch") { item["patch"] = operation("patch", writeParameters + [query("force", "boolean")], r.definition, body: "io.k8s.apimachinery.pkg.apis.meta.v1.Patch") }
        if verbs.contains("delete") { item["delete"] = operation("delete", [query("dryRun"), query("gracePeriodSeconds", "integer"), query("propagationPolicy")], "io.k8s.apimachinery.pkg.apis.meta.v1.Status") }
        if item != .emptyObject {
            item["parameters"] = .array(named)
            paths[prefix + "/{name}"] = item
        }
        // The connect subresources (logs, exec, proxies) carry no object and are left out.
        for sub in r.subresources where !RequestInfo.connectSubresources.contains(sub) {
            let target = r.subresourceKind(sub)
            let definition = target.definition
            var subItem = JSON.emptyObject
            if target.verbs.contains("create") { subItem["post"] = operation("post", writeParameters, definition, body: definition) }
            if target.verbs.contains("get") { subItem["get"] = operation("get", [], definition) }
            if target.verbs.contains("update") { subItem["put"] = operation("put", writeParameters, definition, body: definition) }
            if target.verbs.contains("patch") {
                subItem["patch"] = operation("patch", writeParameters + [query("force", "boolean")], definition, body: "io.k8s.apimachinery.pkg.apis.meta.v1.Patch")
            }
            subItem["parameters"] = .array(named)
            paths[prefix + "/{name}/" + sub] = subItem
        }
        return paths
    }
}
