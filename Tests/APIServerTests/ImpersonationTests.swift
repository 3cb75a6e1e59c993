import Foundation
import TestSupport
import Testing
import NIOHTTP1
@testable import APIServer

/// `kubectl --as`: an admin acts as another user (impersonation headers, each checked
/// against the `impersonate` verb; RBACTests shows others refused).
@Suite(.timeLimit(.minutes(10))) struct ImpersonationTests {
    @Test(arguments: [Kubectl.v132, Kubectl.v137])
    func adminsActAsOtherUsers(kubectl: String) throws {
        let server = try SkiffServer()
        defer { server.destroy() }
        let jane = try server.kubectl(kubectl, ["auth", "whoami", "--as", "jane", "--as-group", "dev", "--as-group", "qa",
                                                "-o", "jsonpath={.status.userInfo.username} {.status.userInfo.groups}"])
        #expect(jane.stdout == #"jane ["dev","qa","system:authenticated"]"#, "\(jane.stdout)\(jane.stderr)")
        let robot = try server.kubectl(kubectl, ["auth", "whoami", "--as", "system:serviceaccount:default:robot",
                                                 "-o", "jsonpath={.status.userInfo.groups}"])
        #expect(robot.stdout == #"["system:serviceaccounts","system:serviceaccounts:default","system:authenticated"]"#,
                "\(robot.stdout)\(robot.stderr)")
        // Requests made as the impersonated user are authorized as that user.
        let refused = try server.kubectl(kubectl, ["--as", "jane", "create", "configmap", "by-jane"])
        #expect(refused.stderr.contains(#"User "jane" cannot create resource "configmaps" in API group "" in the namespace "default""#),
                "\(refused.stderr)")
        #expect(try server.kubectl(kubectl, ["create", "rolebinding", "jane-edit", "--clusterrole=edit", "--user=jane"]).status == 0)
        let created = try server.kubectl(kubectl, ["--as", "jane", "create", "configmap", "by-jane"])
        #expect(created.status == 0, "\(created.stderr)")
        let manager = try server.kubectl(kubectl, ["get", "configmap", "by-jane", "-o", "jsonpath={.metadata.managedFields[0].manager}"])
        #expect(manager.status == 0, "\(manager.stderr)")
    }
}

/// The impersonation checks with an authorizer that refuses some of them.
@Suite(.timeLimit(.minutes(10))) struct ImpersonationCheckTests {
    /// Allows impersonating users, user extras, and the group "dev" only.
    struct PickyAuthorizer: Authorizer {
        func authorize(_ a: AuthorizationAttributes) async -> AuthorizationDecision {
            let allowed = a.verb == "impersonate"
                && (a.resource == "users" || a.resource == "userextras" || (a.resource == "groups" && a.name == "dev"))
            return AuthorizationDecision(allowed: allowed, reason: "")
        }
        func rules(for user: UserInfo, namespace: String) async -> (resourceRules: [JSON], nonResourceRules: [JSON], incomplete: Bool) {
            ([], [], true)
        }
    }

    func request(_ headers: [(String, String)]) -> HTTPRequest {
        HTTPRequest(method: .GET, uri: "/api", headers: HTTPHeaders(headers))
    }

    @Test func eachImpersonatedAttributeIsAuthorized() async throws {
        let impersonation = Impersonation(authorizer: PickyAuthorizer())
        let bob = UserInfo(name: "bob", groups: ["system:authenticated"])
        let plain = try await impersonation.effectiveUser(request([]), authenticated: bob)
        #expect(plain == bob)
        let jane = try await impersonation.effectiveUser(request([("Impersonate-User", "jane"), ("Impersonate-Group", "dev"),
                                                                  ("Impersonate-Extra-Scopes", "view")]), authenticated: bob)
        #expect(jane.name == "jane" && jane.groups == ["dev", "system:authenticated"] && jane.extra == ["scopes": ["view"]])
        do {
            _ = try await impersonation.effectiveUser(request([("Impersonate-User", "jane"), ("Impersonate-Group", "admins")]), authenticated: bob)
            Issue.record("impersonating a refused group must fail")
        } catch let error as StatusError {
            #expect(error.code == 403)
            #expect(error.message == #"groups "admins" is forbidden: User "bob" cannot impersonate resource "groups" in API group "" at the cluster scope"#)
        }
        do {
            _ = try await impersonation.effectiveUser(request([("Impersonate-Group", "dev")]), authenticated: bob)
            Issue.record("groups without a user must fail")
        } catch let error as StatusError {
            #expect(error.code == 400)
        }
    }
}
