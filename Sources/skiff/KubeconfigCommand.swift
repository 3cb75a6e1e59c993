import APIServer
import ArgumentParser
import Foundation

/// `skiff kubeconfig`: prints an admin kubeconfig for this node (the CA and the admin client
/// certificate embedded), ready for `kubectl --kubeconfig`.
struct KubeconfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kubeconfig",
        abstract: "Print an admin kubeconfig for the server whose data directory is given.")

    @Option(name: .customLong("data-dir"), help: "The server's data directory.")
    var dataDir: String = ServerCommand.defaultDataDirectory

    @Option(name: .customLong("server"), help: "The URL kubectl should use.")
    var server: String = "https://127.0.0.1:6443"

    func run() throws {
        let pki = ClusterPKI(directory: dataDir + "/pki")
        func base64(_ path: String) throws -> String {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ValidationError("\(path) is missing: start `skiff server --data-dir \(dataDir)` once first")
            }
            return data.base64EncodedString()
        }
        let text = """
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
        FileHandle.standardOutput.write(Data(text.utf8))
    }
}
