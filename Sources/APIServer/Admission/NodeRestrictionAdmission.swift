/// kube-apiserver's NodeRestriction admission: what the node authorizer lets every kubelet do
/// (create and update nodes, create pods, write pod status), narrowed to the kubelet's own:
/// - a node creates and updates only its own Node, sets no `node-restriction.kubernetes.io/`
///   label and changes no taint;
/// - its CSINode is the one named after it;
/// - it creates only mirror pods (`kubernetes.io/config.mirror`) bound to itself, and writes
///   the status only of pods bound to itself.
/// (Deletes are narrowed by ``NodeAuthorizer``: a node deletes only pods bound to it.)
public struct NodeRestrictionAdmission: AdmissionPlugin {
    static let restrictedLabelPrefix = "node-restriction.kubernetes.io/"
    static let mirrorAnnotation = "kubernetes.io/config.mirror"

    public init() {}

    public func admit(_ object: inout JSON, _ request: AdmissionRequest) async throws -> AdmissionOutcome {
        guard let node = NodeAuthorizer.nodeName(of: request.user) else { return .none }
        if request.resource.group == "storage.k8s.io", request.resource.plural == "csinodes", request.name != node {
            throw StatusError(code: 403, reason: "Forbidden",
                              message: "csinodes.storage.k8s.io \"\(request.name)\" is forbidden: node \"\(node)\" is not allowed to modify object \"\(request.name)\"")
        }
        guard request.resource.group.isEmpty else { return .none }
        func forbidden(_ why: String) -> StatusError {
            StatusError(code: 403, reason: "Forbidden",
                        message: "\(request.resource.plural) \"\(request.name)\" is forbidden: \(why)",
                        details: ["name": .string(request.name), "kind": .string(request.resource.plural)])
        }
        switch request.resource.plural {
        case "nodes":
            guard request.name == node else { throw forbidden("node \"\(node)\" is not allowed to modify node \"\(request.name)\"") }
            let labels = object[path: ["metadata", "labels"]]?.objectValue ?? [:]
            let oldLabels = request.old?[path: ["metadata", "labels"]]?.objectValue ?? [:]
            let restricted = labels.filter { $0.key.hasPrefix(Self.restrictedLabelPrefix) && oldLabels[$0.key] != $0.value }.keys.sorted()
            if !restricted.isEmpty {
                throw forbidden("is not allowed to modify labels: \(restricted.joined(separator: ", "))")
            }
            if request.operation == .update, request.subresource.isEmpty,
               (object[path: ["spec", "taints"]] ?? .null) != (request.old?[path: ["spec", "taints"]] ?? .null) {
                throw forbidden("node \"\(node)\" is not allowed to modify taints")
            }
        case "pods":
            switch (request.operation, request.subresource) {
            case (.create, ""):
                guard object[path: ["metadata", "annotations", Self.mirrorAnnotation]] != nil else {
                    throw forbidden("pod does not have \"\(Self.mirrorAnnotation)\" annotation, node \"\(node)\" can only create mirror pods")
                }
                guard object[path: ["spec", "nodeName"]]?.stringValue == node else {
                    throw forbidden("node \"\(node)\" can only create pods with spec.nodeName set to itself")
                }
            case (.update, "status"):
                guard request.old?[path: ["spec", "nodeName"]]?.stringValue == node else {
                    throw forbidden("node \"\(node)\" can only update pod status for pods with its own spec.nodeName")
                }
            case (.update, ""):
                throw forbidden("node \"\(node)\" can only update pod status")
            default:
                break
            }
        default:
            break
        }
        return .none
    }
}
