import APIServer
import ArgumentParser
import Foundation

/// `skiff kubeconfig`: prints a kubeconfig for this node (the CA and a client certificate
/// embedded), ready for `kubectl --kubeconfig`: the admin's, or with `--user` a new client
/// certificate signed by the cluster CA for that user and `--group`s, as the components of a
/// control plane need (`--user system:kube-scheduler`, `--user system:node:NAME --group
/// system:nodes`).
struct KubeconfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kubeconfig",
        abstract: "Print a kubeconfig (the admin's, or a new client certificate's) for the server whose data directory is given.")

    @Option(name: .customLong("data-dir"), help: "The server's data directory.")
    var dataDir: String = ServerCommand.defaultDataDirectory

    @Option(name: .customLong("server"), help: "The URL kubectl should use.")
    var server: String = "https://127.0.0.1:6443"

    @Option(name: .customLong("user"), help: "Issue a client certificate for this user (its CN) instead of printing the admin's.")
    var user: String?

    @Option(name: .customLong("group"), help: "A group of --user (the certificate's O; repeatable).")
    var groups: [String] = []

    func validate() throws {
        for name in [user].compactMap({ $0 }) + groups {
            guard !name.isEmpty, name.count <= 256, name.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7F }) else {
                throw ValidationError("--user and --group take 1 to 256 printable characters")
            }
        }
        if user == nil && !groups.isEmpty { throw ValidationError("--group needs --user") }
    }

    func run() throws {
        let pki = ClusterPKI(directory: dataDir + "/pki")
        guard FileManager.default.fileExists(atPath: pki.adminKeyPath) else {
            throw RuntimeError("\(pki.adminKeyPath) is missing: start `skiff server --data-dir \(dataDir)` once first")
        }
        let text = try user.map { try AdminKubeconfig.text(pki: pki, server: server, user: $0, groups: groups) }
            ?? AdminKubeconfig.text(pki: pki, server: server)
        FileHandle.standardOutput.write(Data(text.utf8))
    }
}
