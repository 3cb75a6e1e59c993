/// RBAC roles and bindings: any name that can be a path segment (`system:basic-user`).
struct RBACStrategy: ResourceStrategy {
    func nameErrors(_ name: String) -> [String] { NameValidation.pathSegmentErrors(name) }
}
