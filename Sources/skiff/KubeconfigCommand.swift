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
        guard FileManager.default.fileExists(atPath: pki.adminKeyPath) else {
            throw RuntimeError("\(pki.adminKeyPath) is missing: start `skiff server --data-dir \(dataDir)` once first")
        }
        FileHandle.standardOutput.write(Data(try AdminKubeconfig.text(pki: pki, server: server).utf8))
    }
}
