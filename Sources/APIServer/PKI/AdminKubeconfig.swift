import Foundation

/// The admin kubeconfig of a node: the cluster CA and the admin client certificate embedded,
/// ready for `kubectl --kubeconfig`.
public enum AdminKubeconfig {
    /// The kubeconfig text for `server` (an https URL), from the PKI's files.
    public static func text(pki: ClusterPKI, server: String) throws -> String {
        text(server: server, ca: try contents(pki.caCertificatePath), user: "skiff-admin",
             certificate: try contents(pki.adminCertificatePath), key: try contents(pki.adminKeyPath))
    }

    /// A kubeconfig for `server` with a new client certificate from the PKI's CA for `user`
    /// in `groups` (a control-plane component's credentials).
    public static func text(pki: ClusterPKI, server: String, user: String, groups: [String]) throws -> String {
        let (certificate, key) = try pki.issueClientCertificate(user: user, groups: groups)
        return text(server: server, ca: try contents(pki.caCertificatePath), user: "skiff-user",
                    certificate: Data(certificate.utf8), key: Data(key.utf8))
    }

    private static func contents(_ path: String) throws -> Data {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CocoaError(.fileReadNoSuchFile, userInfo: [NSFilePathErrorKey: path])
        }
        return data
    }

    /// A kubeconfig for `server` that trusts `ca` and signs in as the holder of `certificate`
    /// and `key` (PEM), under the user entry `user`.
    static func text(server: String, ca: Data, user: String, certificate: Data, key: Data) -> String {
        """
        apiVersion: v1
        kind: Config
        clusters:
        - name: skiff
          cluster:
            server: \(server)
            certificate-authority-data: \(ca.base64EncodedString())
        users:
        - name: \(user)
          user:
            client-certificate-data: \(certificate.base64EncodedString())
            client-key-data: \(key.base64EncodedString())
        contexts:
        - name: skiff
          context:
            cluster: skiff
            user: \(user)
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
