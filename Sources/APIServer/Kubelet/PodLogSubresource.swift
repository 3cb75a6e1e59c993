import Foundation

/// GET `pods/NAME/log`: the container's log from its node's kubelet
/// (`/containerLogs/NS/POD/CONTAINER`), streamed as the kubelet sends it (`follow` keeps it
/// open). The options are checked as kube-apiserver checks PodLogOptions; a kubelet's refusal
/// comes back as a `Status` with its code and text.
struct PodLogSubresource: SubresourceHandler {
    let relay: BackendRelay?

    func serve(_ request: ResourceRequest, engine: ResourceEngine) async throws -> HTTPResponse {
        guard request.info.verb == .get else {
            throw StatusError.methodNotAllowed("the server does not allow this method on the requested resource")
        }
        let name = try request.name()
        let query = try Self.kubeletQuery(ConnectParameters(request: request), name: name)
        let pod = try await engine.current(request, name: name).object
        let container = try KubeletLocator.container(request.parameter("container"), of: pod, name: name)
        let kubelet = try await KubeletLocator.address(ofPod: pod, name: name, engine: engine)
        guard let relay else { throw StatusError.serviceUnavailable("this server does not connect to kubelets") }
        let path = "/containerLogs/" + [request.namespace ?? "", name, container]
            .map { BackendRelay.escape($0, component: .query) }.joined(separator: "/")
        let target = query.isEmpty ? path : path + "?" + query
        let response: HTTPResponse
        do {
            response = try await relay.exchange(BackendRequest(method: "GET", target: target, host: kubelet.text),
                                                host: kubelet.host, port: kubelet.port, transport: .kubelet)
        } catch let error as BackendError {
            throw StatusError.internalError("Get \"https://\(kubelet.text)\(target)\": \(error)")
        }
        guard (200..<300).contains(Int(response.status.code)) else { throw BackendRelay.refusal(response) }
        return response
    }

    /// The kubelet's query for the request's PodLogOptions; 422 for options kube-apiserver
    /// refuses (negative counts, both `sinceSeconds` and `sinceTime`).
    static func kubeletQuery(_ parameters: ConnectParameters, name: String) throws -> String {
        var out: [(String, String)] = []
        var causes: [StatusError.Cause] = []
        if try parameters.bool("follow") { out.append(("follow", "true")) }
        if try parameters.bool("previous") { out.append(("previous", "true")) }
        if try parameters.bool("timestamps") { out.append(("timestamps", "true")) }
        let sinceSeconds = try parameters.int("sinceSeconds")
        if let sinceSeconds {
            if sinceSeconds < 1 {
                causes.append(.init(field: "sinceSeconds", type: "FieldValueInvalid", message: "Invalid value: \(sinceSeconds): must be greater than 0"))
            }
            out.append(("sinceSeconds", String(sinceSeconds)))
        }
        if let sinceTime = parameters.string("sinceTime") {
            guard let time = RFC3339.parse(sinceTime) else {
                throw StatusError.badRequest("invalid value for sinceTime: parsing time \(ConnectParameters.quoted(sinceTime)) as RFC 3339")
            }
            if sinceSeconds != nil {
                causes.append(.init(field: "", type: "FieldValueForbidden", message: "at most one of `sinceTime` or `sinceSeconds` may be specified"))
            }
            out.append(("sinceTime", RFC3339.string(time)))
        }
        if let tail = try parameters.int("tailLines") {
            if tail < 0 { causes.append(.init(field: "tailLines", type: "FieldValueInvalid", message: "Invalid value: \(tail): must be greater than or equal to 0")) }
            out.append(("tailLines", String(tail)))
        }
        if let limit = try parameters.int("limitBytes") {
            if limit < 1 { causes.append(.init(field: "limitBytes", type: "FieldValueInvalid", message: "Invalid value: \(limit): must be greater than 0")) }
            out.append(("limitBytes", String(limit)))
        }
        if let stream = parameters.string("stream") {
            if !["All", "Stdout", "Stderr"].contains(stream) {
                causes.append(.init(field: "stream", type: "FieldValueNotSupported",
                                    message: "Unsupported value: \(ConnectParameters.quoted(stream)): supported values: \"All\", \"Stderr\", \"Stdout\""))
            } else if stream != "All", parameters.string("tailLines") != nil {
                causes.append(.init(field: "", type: "FieldValueForbidden", message: "`tailLines` and specific `stream` are mutually exclusive for now"))
            }
            out.append(("stream", stream))
        }
        if !causes.isEmpty { throw StatusError.invalid(kind: "PodLogOptions", group: "", name: name, causes: causes) }
        return BackendRelay.query(out)
    }
}
