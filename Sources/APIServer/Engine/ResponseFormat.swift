import Foundation

/// What a client asked a resource request to answer with, negotiated from its `Accept` header
/// as kube-apiserver negotiates it: media ranges in order of their `q` values (ties in the
/// order given); JSON for `*/*`, `application/*` or no header; protobuf only for kinds that
/// have a protobuf message (not custom resources); `as=Table`, `as=PartialObjectMetadata`
/// and `as=PartialObjectMetadataList` (`g=meta.k8s.io`, `v=v1` or `v1beta1`) for what the
/// endpoint can convert to; 406 when nothing offered can be served.
public struct ResponseFormat: Sendable, Equatable {
    public enum Encoding: Sendable, Equatable { case json, protobuf }
    public enum Target: Sendable, Equatable { case object, table, partialObjectMetadata, partialObjectMetadataList }

    public var encoding: Encoding = .json
    public var target: Target = .object
    /// The meta.k8s.io version a converted answer is written in.
    public var targetVersion: String = "v1"

    public static let json = ResponseFormat()

    public init(encoding: Encoding = .json, target: Target = .object, targetVersion: String = "v1") {
        self.encoding = encoding
        self.target = target
        self.targetVersion = targetVersion
    }

    /// The apiVersion of a converted answer.
    public var metaAPIVersion: String { "meta.k8s.io/\(targetVersion)" }

    /// Picks the format for `accept`; `protobuf` says whether the kind has a protobuf message,
    /// `targets` which conversions the endpoint offers.
    public static func negotiate(accept: String?, protobuf: Bool, targets: Set<Target>) throws -> ResponseFormat {
        guard let accept, !accept.trimmingCharacters(in: .whitespaces).isEmpty else { return .json }
        var offers: [(q: Double, index: Int, format: ResponseFormat)] = []
        for (index, range) in accept.split(separator: ",").enumerated() {
            let parts = range.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let type = parts.first?.lowercased() else { continue }
            var parameters: [String: String] = [:]
            for parameter in parts.dropFirst() {
                let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                if pair.count == 2 { parameters[pair[0].lowercased()] = pair[1].trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
            }
            let q = parameters["q"].flatMap(Double.init) ?? 1
            guard q > 0 else { continue }
            var format = ResponseFormat()
            switch type {
            case "application/json", "application/*", "*/*": format.encoding = .json
            case KubernetesProtobuf.mediaType:
                guard protobuf else { continue }
                format.encoding = .protobuf
            default: continue
            }
            if let target = parameters["as"] {
                guard parameters["g"] == "meta.k8s.io", let version = parameters["v"], version == "v1" || version == "v1beta1" else { continue }
                switch target {
                case "Table": format.target = .table
                case "PartialObjectMetadata": format.target = .partialObjectMetadata
                case "PartialObjectMetadataList": format.target = .partialObjectMetadataList
                default: continue
                }
                // Tables have no protobuf message.
                if format.target == .table, format.encoding == .protobuf { continue }
                format.targetVersion = version
            }
            guard format.target == .object || targets.contains(format.target) else { continue }
            offers.append((q, index, format))
        }
        offers.sort { $0.q != $1.q ? $0.q > $1.q : $0.index < $1.index }
        guard let best = offers.first else {
            throw StatusError(code: 406, reason: "NotAcceptable",
                              message: "only the following media types are accepted: application/json, application/vnd.kubernetes.protobuf")
        }
        return best.format
    }
}
