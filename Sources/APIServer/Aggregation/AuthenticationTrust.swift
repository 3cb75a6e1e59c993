import Foundation

/// What aggregated API servers read to trust this server: the ConfigMap
/// `kube-system/extension-apiserver-authentication` with the client CA, the front proxy's
/// CA and the one client name it may present, and the identity headers it sets (as
/// kube-apiserver's cluster authentication trust controller publishes it), and the Role
/// that lets them read it.
enum AuthenticationTrust {
    static let namespace = "kube-system"
    static let configMapName = "extension-apiserver-authentication"
    static let readerRoleName = "extension-apiserver-authentication-reader"

    static let usernameHeaders = ["X-Remote-User"]
    static let uidHeaders = ["X-Remote-Uid"]
    static let groupHeaders = ["X-Remote-Group"]
    static let extraHeaderPrefixes = ["X-Remote-Extra-"]

    /// The ConfigMap's data: this server's CAs and names merged into what `existing` holds,
    /// so that the members of a cluster, whatever CA each was started with, are all trusted.
    static func data(merging existing: JSON?, clientCA: String, frontProxyCA: String,
                     allowedNames: [String] = [ClusterPKI.frontProxyClientName]) -> JSON {
        let existingNames = existing?["requestheader-allowed-names"]?.stringValue
            .flatMap { try? JSON.parse(Array($0.utf8)) }?.arrayValue?.compactMap(\.stringValue) ?? []
        var names = existingNames
        for name in allowedNames where !names.contains(name) { names.append(name) }
        return [
            "client-ca-file": .string(bundle(existing?["client-ca-file"]?.stringValue, adding: clientCA)),
            "requestheader-client-ca-file": .string(bundle(existing?["requestheader-client-ca-file"]?.stringValue, adding: frontProxyCA)),
            "requestheader-allowed-names": .string(list(names)),
            "requestheader-username-headers": .string(list(usernameHeaders)),
            "requestheader-uid-headers": .string(list(uidHeaders)),
            "requestheader-group-headers": .string(list(groupHeaders)),
            "requestheader-extra-headers-prefix": .string(list(extraHeaderPrefixes)),
        ]
    }

    /// The role kube-apiserver's bootstrap policy gives aggregated API servers (bound by
    /// each of them to its service account).
    static var readerRole: JSON {
        var role = JSON.newObject(apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role", name: readerRoleName,
                                  namespace: namespace, labels: ["kubernetes.io/bootstrapping": "rbac-defaults"])
        role[path: ["metadata", "annotations"]] = ["rbac.authorization.kubernetes.io/autoupdate": "true"]
        role["rules"] = [["apiGroups": [""], "resources": ["configmaps"], "resourceNames": [.string(configMapName)],
                          "verbs": ["get", "list", "watch"]]]
        return role
    }

    /// A JSON array of strings, as the ConfigMap's values hold them.
    static func list(_ values: [String]) -> String {
        String(decoding: JSON.array(values.map { .string($0) }).serialized(), as: UTF8.self)
    }

    /// The certificates of `existing` with those of `adding` that it lacks, PEM block by block.
    static func bundle(_ existing: String?, adding: String) -> String {
        var blocks = certificates(existing ?? "")
        for block in certificates(adding) where !blocks.contains(block) { blocks.append(block) }
        return blocks.joined(separator: "\n") + (blocks.isEmpty ? "" : "\n")
    }

    static func certificates(_ pem: String) -> [String] {
        let end = "-----END CERTIFICATE-----"
        var blocks: [String] = []
        var rest = Substring(pem)
        while let begin = rest.range(of: "-----BEGIN CERTIFICATE-----"), let finish = rest.range(of: end, range: begin.upperBound..<rest.endIndex) {
            blocks.append(String(rest[begin.lowerBound..<finish.upperBound]))
            rest = rest[finish.upperBound...]
        }
        return blocks
    }
}
