/// core/v1 Bindings (`POST namespaces/NS/bindings`): not stored; a create assigns the pod the
/// Binding names to a node, exactly as `pods/NAME/binding` does (``PodBindingSubresource``).
struct BindingStrategy: ResourceStrategy {
    func answerCreate(_ binding: JSON, _ request: ResourceRequest, engine: ResourceEngine) async throws -> HTTPResponse? {
        guard let podName = binding[path: ["metadata", "name"]]?.stringValue, !podName.isEmpty else {
            throw StatusError.invalid(kind: "Binding", group: "", name: "", causes: [
                .init(field: "metadata.name", type: "FieldValueRequired", message: "Required value: name or generateName is required"),
            ])
        }
        guard let pods = engine.catalog.resource(group: "", version: "v1", plural: "pods") else {
            throw StatusError.internalError("pods are not served")
        }
        return try await PodBindingSubresource.assign(
            binding, request.addressing(pods, name: podName, subresource: "binding", kinds: engine.kinds), engine: engine)
    }
}
