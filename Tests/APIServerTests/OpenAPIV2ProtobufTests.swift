import Foundation
import TestSupport
import Testing

/// kubectl's client-side validation against the OpenAPI v2 document in protobuf.
@Suite(.timeLimit(.minutes(10))) struct OpenAPIV2ProtobufTests {
    @Test(arguments: [Kubectl.v132, Kubectl.v137])
    func kubectlValidatesListsAgainstTheV2Document(kubectl: String) throws {
        let server = try SkiffServer()
        defer { server.destroy() }
        let list = #"{"apiVersion":"v1","kind":"List","items":[{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"l1"}},{"apiVersion":"v1","kind":"Secret","metadata":{"name":"l2"},"stringData":{"a":"b"}}]}"#
        let created = try server.kubectl(kubectl, ["create", "-f", "-"], stdin: list)
        #expect(created.status == 0 && created.stdout.contains("configmap/l1 created") && created.stdout.contains("secret/l2 created"),
                "\(created.stdout)\(created.stderr)")
        let bogus = #"{"apiVersion":"v1","kind":"List","items":[{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"l3"},"bogus":1}]}"#
        let refused = try server.kubectl(kubectl, ["create", "-f", "-"], stdin: bogus)
        #expect(refused.status != 0 && refused.stderr.contains("bogus"), "\(refused.stdout)\(refused.stderr)")
        #expect(try server.kubectl(kubectl, ["get", "configmap", "l3"]).status != 0)
    }
}
