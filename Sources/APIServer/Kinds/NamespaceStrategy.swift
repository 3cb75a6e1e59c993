/// Namespaces: DNS-1123 labels, `status.phase` Active, the `kubernetes` finalizer. A delete
/// turns a namespace Terminating; the namespace controller empties it and drops its
/// `kubernetes` finalizer, which removes it (a delete of a Terminating namespace without
/// finalizers removes it too). The namespaces every cluster needs cannot be deleted.
struct NamespaceStrategy: ResourceStrategy {
    func prepareForCreate(_ object: inout JSON) {
        object["status"] = ["phase": "Active"]
        var finalizers = object[path: ["spec", "finalizers"]]?.arrayValue ?? []
        if !finalizers.contains("kubernetes") { finalizers.append("kubernetes") }
        object[path: ["spec", "finalizers"]] = .array(finalizers)
        Self.labelName(&object)
    }

    func prepareForUpdate(_ object: inout JSON, old: JSON) {
        object["status"] = old["status"]
        object[path: ["spec", "finalizers"]] = old[path: ["spec", "finalizers"]]
        Self.labelName(&object)
    }

    /// Every namespace carries its name as the `kubernetes.io/metadata.name` label.
    static func labelName(_ object: inout JSON) {
        if let name = object[path: ["metadata", "name"]]?.stringValue {
            object[path: ["metadata", "labels", "kubernetes.io/metadata.name"]] = .string(name)
        }
    }

    func nameErrors(_ name: String) -> [String] { NameValidation.labelErrors(name) }
    var selectableFields: [String] { ["status.phase"] }

    /// `finalize` changes anything but the status (spec.finalizers above all).
    func subresourceUpdate(_ subresource: String, _ object: JSON, old: JSON) -> JSON? {
        switch subresource {
        case "status": return statusUpdate(object, old: old)
        case "finalize":
            var finalized = object
            finalized["status"] = old["status"]
            return finalized
        default: return nil
        }
    }

    var table: TablePrinter { TablePrinter(columns: [.name, .field("Status", ["status", "phase"], none: ""), .age]) }

    static let protected: Set<String> = ["default", "kube-system", "kube-public"]

    func checkDelete(_ object: JSON) throws {
        let name = object[path: ["metadata", "name"]]?.stringValue ?? ""
        if Self.protected.contains(name) {
            throw StatusError(code: 403, reason: "Forbidden", message: "namespaces \"\(name)\" is forbidden: this namespace may not be deleted",
                              details: ["name": .string(name), "kind": "namespaces"])
        }
    }

    var keepsUntilFinalized: Bool { true }
    var returnsDeletedObject: Bool { true }
    func prepareForDeletion(_ object: inout JSON) { object[path: ["status", "phase"]] = "Terminating" }

    /// A namespace also waits for its spec's finalizers (the namespace controller's
    /// `kubernetes` among them), as kube-apiserver's namespace storage does.
    func pendingFinalizers(of object: JSON) -> [String] {
        ((object[path: ["metadata", "finalizers"]]?.arrayValue ?? []) + (object[path: ["spec", "finalizers"]]?.arrayValue ?? []))
            .compactMap(\.stringValue)
    }
}
