/// networking.k8s.io IPAddresses: named by the address they stand for, in its canonical text
/// form (`10.96.0.10`, `fe80::1`), and tied to the object using it by `spec.parentRef`.
struct IPAddressStrategy: ResourceStrategy {
    func nameErrors(_ name: String) -> [String] {
        guard let address = IPAddressBytes(name) else { return ["must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"] }
        let canonical = IPAddressBytes.text(address.bytes)
        return canonical == name ? [] : ["must be in canonical form (\"\(canonical)\")"]
    }

    func validate(_ object: JSON, old: JSON?) -> [StatusError.Cause] {
        guard let parent = object[path: ["spec", "parentRef"]], case .object = parent else {
            return [.init(field: "spec.parentRef", type: "FieldValueRequired", message: "Required value")]
        }
        var causes: [StatusError.Cause] = []
        for member in ["resource", "name"] where (parent[member]?.stringValue ?? "").isEmpty {
            causes.append(.init(field: "spec.parentRef.\(member)", type: "FieldValueRequired", message: "Required value"))
        }
        if let old, old[path: ["spec", "parentRef"]] != parent {
            causes.append(.init(field: "spec.parentRef", message: "Invalid value: field is immutable"))
        }
        return causes
    }
}
