/// RBAC roles and bindings: any name that can be a path segment (`system:basic-user`).
struct RBACStrategy: ResourceStrategy {
    func prepareForCreate(_ object: inout JSON) {}
    func prepareForUpdate(_ object: inout JSON, old: JSON) {}
    func nameErrors(_ name: String) -> [String] { NameValidation.pathSegmentErrors(name) }
}
