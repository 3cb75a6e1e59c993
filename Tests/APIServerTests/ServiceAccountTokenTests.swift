import Foundation
import TestSupport
import Testing

/// TokenRequest (`kubectl create token`), service account tokens as bearer tokens, and
/// TokenReview of them, with both kubectl versions.
@Suite(.timeLimit(.minutes(10))) struct ServiceAccountTokenTests {
    @Test(arguments: [Kubectl.v132, Kubectl.v137])
    func createdTokensAuthenticateUntilTheAccountGoes(kubectl: String) throws {
        let server = try SkiffServer()
        defer { server.destroy() }
        func asToken(_ token: String, _ arguments: [String]) throws -> CommandOutput {
            try run(kubectl, ["--kubeconfig=/dev/null", "--server=\(server.url)", "--insecure-skip-tls-verify", "--token=\(token)"] + arguments)
        }
        #expect(try server.kubectl(kubectl, ["create", "serviceaccount", "robot"]).status == 0)
        let created = try server.kubectl(kubectl, ["create", "token", "robot"])
        #expect(created.status == 0, "\(created.stderr)")
        let token = created.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let whoami = try asToken(token, ["auth", "whoami", "-o", "jsonpath={.status.userInfo.username} {.status.userInfo.groups}"])
        #expect(whoami.stdout == "system:serviceaccount:default:robot [\"system:serviceaccounts\",\"system:serviceaccounts:default\",\"system:authenticated\"]",
                "\(whoami.stdout) \(whoami.stderr)")

        // A token for another audience is not accepted by the API, but a TokenReview for
        // that audience authenticates it.
        let other = try server.kubectl(kubectl, ["create", "token", "robot", "--audience", "vault", "--duration", "20m"])
        let otherToken = other.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(other.status == 0, "\(other.stderr)")
        let refused = try asToken(otherToken, ["get", "ns", "default"])
        #expect(refused.status != 0 && Self.unauthorized(refused), "\(refused.stdout) \(refused.stderr)")
        let review = """
            {"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview","spec":{"token":"\(otherToken)","audiences":["vault"]}}
            """
        let reviewed = try server.kubectl(kubectl, ["create", "--raw", "/apis/authentication.k8s.io/v1/tokenreviews", "-f", "-"], stdin: review)
        let status = (try? JSONSerialization.jsonObject(with: Data(reviewed.stdout.utf8)) as? [String: Any])?["status"] as? [String: Any]
        #expect(status?["authenticated"] as? Bool == true, "\(reviewed.stdout) \(reviewed.stderr)")
        #expect((status?["user"] as? [String: Any])?["username"] as? String == "system:serviceaccount:default:robot")
        #expect(status?["audiences"] as? [String] == ["vault"])

        // Too short a lifetime is refused with the field named.
        let short = try server.kubectl(kubectl, ["create", "token", "robot", "--duration", "1m"])
        #expect(short.status != 0 && short.stderr.contains("spec.expirationSeconds"), "\(short.stderr)")
        // No token for an account that does not exist.
        #expect(try server.kubectl(kubectl, ["create", "token", "nobody"]).stderr.contains("not found"))

        // Once the account is deleted, its tokens stop working.
        #expect(try server.kubectl(kubectl, ["delete", "serviceaccount", "robot"]).status == 0)
        let after = try asToken(token, ["get", "ns", "default"])
        #expect(after.status != 0 && Self.unauthorized(after), "\(after.stdout) \(after.stderr)")
        let gone = """
            {"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview","spec":{"token":"\(token)"}}
            """
        // (kubectl create -f of a kind without a path of its own validates it against the
        // OpenAPI v2 document in protobuf.)
        let goneReview = try server.kubectl(kubectl, ["create", "-f", "-", "-o", "jsonpath={.status.authenticated}"], stdin: gone)
        #expect(goneReview.stdout == "false", "\(goneReview.stdout) \(goneReview.stderr)")
    }

    /// kubectl's words for a 401 (they depend on whether discovery came first).
    static func unauthorized(_ output: CommandOutput) -> Bool {
        output.stderr.contains("Unauthorized") || output.stderr.contains("provide credentials")
    }
}
