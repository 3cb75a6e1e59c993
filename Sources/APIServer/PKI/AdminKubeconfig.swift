import Foundation

/// The admin kubeconfig of a node: the cluster CA and the admin client certificate embedded,
/// ready for `kubectl --kubeconfig`.
public enum AdminKubeconfig {
    /// The kubeconfig text for `server` (an https URL), from the PKI's files.
    public static func text(pki: ClusterPKI, server: String) throws -> String {
        func base64(_ path: String) throws -> String {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw CocoaError(.fileReadNoSuchFile, userInfo: [NSFilePathErrorKey: path])
            }
            return data.base64EncodedString()
        }
        return """
            apiVersion: v1
            kind: Config
            clusters:
            - name: skiff
              cluster:
                server: \(server)
                certificate-authority-data: \(try base64(pki.caCertificatePath))
            users:
            - name: skiff-admin
              user:
                client-certificate-data: \(try base64(pki.adminCertificatePath))
                client-key-data: \(try base64(pki.adminKeyPath))
            contexts:
            - name: skiff
              context:
                cluster: skiff
                user: skiff-admin
            current-context: skiff

            """
    }

    /// Writes the kubeconfig to `path` with mode 0600 (it holds the admin key).
    public static func write(pki: ClusterPKI, server: String, to path: String) throws {
        let temporary = path + ".tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: Data(try text(pki: pki, server: server).utf8),
                                             attributes: [.posixPermissions: 0o600]) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: temporary])
        }
        try? FileManager.default.removeItem(atPath: path)
        try FileManager.default.moveItem(atPath: temporary, toPath: path)
    }
}
