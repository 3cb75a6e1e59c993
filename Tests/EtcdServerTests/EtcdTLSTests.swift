import Foundation
import TestSupport
import Testing

/// `skiff etcd` with `--cert-file`, `--key-file`, `--trusted-ca-file` and `--client-cert-auth`:
/// etcdctl with a client certificate signed by the CA gets in; without one it does not.
@Suite(.serialized, .timeLimit(.minutes(10))) struct EtcdTLSTests {
    /// A CA, a server certificate for 127.0.0.1 and a client certificate, made with openssl.
    private func makeCertificates(in dir: String) throws {
        let openssl = try which("openssl")
        func sh(_ args: [String]) throws {
            let r = try run(openssl, args)
            guard r.status == 0 else { throw OpenSSLFailed(output: r.stderr) }
        }
        try sh(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "\(dir)/ca.key", "-out", "\(dir)/ca.crt",
                "-days", "1", "-subj", "/CN=skiff-test-ca"])
        try "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n".write(toFile: "\(dir)/server.ext", atomically: true, encoding: .utf8)
        try "extendedKeyUsage=clientAuth\n".write(toFile: "\(dir)/client.ext", atomically: true, encoding: .utf8)
        for (name, subject) in [("server", "/CN=127.0.0.1"), ("client", "/CN=etcd-client")] {
            try sh(["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "\(dir)/\(name).key", "-out", "\(dir)/\(name).csr", "-subj", subject])
            try sh(["x509", "-req", "-in", "\(dir)/\(name).csr", "-CA", "\(dir)/ca.crt", "-CAkey", "\(dir)/ca.key",
                    "-CAcreateserial", "-out", "\(dir)/\(name).crt", "-days", "1", "-extfile", "\(dir)/\(name).ext"])
        }
    }

    struct OpenSSLFailed: Error { let output: String }

    @Test func clientCertificatesAreRequiredAndAccepted() async throws {
        try await offPool {
            let certs = NSTemporaryDirectory() + "skiff-tls-" + UUID().uuidString
            try FileManager.default.createDirectory(atPath: certs, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: certs) }
            try makeCertificates(in: certs)

            let etcd = try SkiffEtcd(extraArguments: [
                "--cert-file", "\(certs)/server.crt", "--key-file", "\(certs)/server.key",
                "--trusted-ca-file", "\(certs)/ca.crt", "--client-cert-auth",
            ], scheme: "https")
            defer { etcd.destroy() }
            let withCert = ["--cacert", "\(certs)/ca.crt", "--cert", "\(certs)/client.crt", "--key", "\(certs)/client.key"]
            let put = try etcd.etcdctl(withCert + ["put", "/secure", "yes"])
            #expect(put.status == 0, "\(put.stderr)")
            #expect(try etcd.etcdctl(withCert + ["get", "/secure", "--print-value-only"]).stdout == "yes\n")

            let withoutCert = try etcd.etcdctl(["--cacert", "\(certs)/ca.crt", "--dial-timeout=2s", "--command-timeout=3s", "get", "/secure"], timeout: 30)
            #expect(withoutCert.status != 0)
            #expect(!withoutCert.stdout.contains("yes"))
            let plaintext = try run(try which("etcdctl"), ["--endpoints=\(etcd.endpoint.replacingOccurrences(of: "https", with: "http"))",
                                                           "--dial-timeout=2s", "--command-timeout=3s", "get", "/secure"], environment: ["ETCDCTL_API": "3"], timeout: 30)
            #expect(plaintext.status != 0)
        }
    }
}
