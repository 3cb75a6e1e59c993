import Foundation
import TestSupport
import Testing
import X509
@testable import APIServer

@Suite(.timeLimit(.minutes(10))) struct PKIAndDiscoveryTests {
    @Test func firstStartMakesACAAndCertificatesWithPrivateKeys() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let pki = try ClusterPKI.ensure(dataDirectory: dir.path, subjectAlternativeNames: ["localhost", "127.0.0.1", "api.example.com"])
        for key in [pki.caKeyPath, pki.serverKeyPath, pki.adminKeyPath] {
            let mode = try FileManager.default.attributesOfItem(atPath: key)[.posixPermissions] as? Int
            #expect(mode == 0o600, "\(key) is readable by its owner only")
        }
        let server = try Certificate(pemEncoded: String(contentsOfFile: pki.serverCertificatePath, encoding: .utf8))
        let names = try #require(try server.extensions.subjectAlternativeNames)
        #expect(names.contains(.dnsName("api.example.com")))
        #expect(names.contains(.ipAddress(.init(contentBytes: [127, 0, 0, 1]))))
        let admin = try Certificate(pemEncoded: String(contentsOfFile: pki.adminCertificatePath, encoding: .utf8))
        #expect(admin.subject.description.contains("CN=admin"))
        #expect(admin.subject.description.contains("O=system:masters"))
        // A second start keeps the certificates; a new name re-issues only the serving one.
        let before = try String(contentsOfFile: pki.caCertificatePath, encoding: .utf8)
        let adminBefore = try String(contentsOfFile: pki.adminCertificatePath, encoding: .utf8)
        _ = try ClusterPKI.ensure(dataDirectory: dir.path, subjectAlternativeNames: ["localhost", "10.1.2.3"])
        #expect(try String(contentsOfFile: pki.caCertificatePath, encoding: .utf8) == before)
        #expect(try String(contentsOfFile: pki.adminCertificatePath, encoding: .utf8) == adminBefore)
        let reissued = try Certificate(pemEncoded: String(contentsOfFile: pki.serverCertificatePath, encoding: .utf8))
        #expect(try reissued.extensions.subjectAlternativeNames?.contains(.ipAddress(.init(contentBytes: [10, 1, 2, 3]))) == true)
    }

    /// The front proxy's client certificate comes from its own CA, and is issued again when
    /// the CA is replaced (a member that joined a cluster gets the cluster's).
    @Test func theFrontProxyCertificateFollowsItsCA() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let pki = try ClusterPKI.ensure(dataDirectory: dir.path, subjectAlternativeNames: ["localhost"])
        func load(_ path: String) throws -> Certificate { try Certificate(pemEncoded: String(contentsOfFile: path, encoding: .utf8)) }
        let client = try load(pki.frontProxyClientCertificatePath)
        let ca = try load(pki.frontProxyCACertificatePath)
        #expect(client.subject.description.contains("CN=front-proxy-client"))
        #expect(client.issuer == ca.subject)
        #expect(ca.subject != (try load(pki.caCertificatePath)).subject, "the front proxy has a CA of its own")
        let mode = try FileManager.default.attributesOfItem(atPath: pki.frontProxyClientKeyPath)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        // Another member's CA arrives: the client certificate is issued by it at the next start.
        let other = try TemporaryDirectory()
        defer { other.remove() }
        let otherPKI = try ClusterPKI.ensure(dataDirectory: other.path, subjectAlternativeNames: ["localhost"])
        for (from, to) in [(otherPKI.frontProxyCACertificatePath, pki.frontProxyCACertificatePath),
                           (otherPKI.frontProxyCAKeyPath, pki.frontProxyCAKeyPath)] {
            try FileManager.default.removeItem(atPath: to)
            try FileManager.default.copyItem(atPath: from, toPath: to)
        }
        _ = try ClusterPKI.ensure(dataDirectory: dir.path, subjectAlternativeNames: ["localhost"])
        let reissued = try load(pki.frontProxyClientCertificatePath)
        #expect(reissued != client)
        #expect(try reissued.extensions.authorityKeyIdentifier?.keyIdentifier
                == (try load(otherPKI.frontProxyCACertificatePath)).extensions.subjectKeyIdentifier?.keyIdentifier)
        // The published trust keeps both members' CAs, each once, and the names merged.
        let first = AuthenticationTrust.data(merging: nil, clientCA: try String(contentsOfFile: pki.caCertificatePath, encoding: .utf8),
                                             frontProxyCA: try String(contentsOfFile: otherPKI.frontProxyCACertificatePath, encoding: .utf8))
        #expect(first["requestheader-allowed-names"] == "[\"front-proxy-client\"]")
        let merged = AuthenticationTrust.data(merging: first, clientCA: try String(contentsOfFile: pki.caCertificatePath, encoding: .utf8),
                                              frontProxyCA: try String(contentsOfFile: dir.path + "/pki/ca.crt", encoding: .utf8),
                                              allowedNames: ["front-proxy-client", "other-proxy"])
        #expect(merged["requestheader-client-ca-file"]?.stringValue?.components(separatedBy: "BEGIN CERTIFICATE").count == 3)
        #expect(merged["client-ca-file"]?.stringValue?.components(separatedBy: "BEGIN CERTIFICATE").count == 2)
        #expect(merged["requestheader-allowed-names"] == "[\"front-proxy-client\",\"other-proxy\"]")
    }

    @Test func clientCertificatesNameTheUserAndGroups() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let pki = try ClusterPKI.ensure(dataDirectory: dir.path, subjectAlternativeNames: ["localhost"])
        let (pem, _) = try pki.issueClientCertificate(user: "jane", groups: ["dev", "qa"])
        let der = try Certificate(pemEncoded: pem).serializeAsPEM().derBytes
        let request = HTTPRequest(method: .GET, uri: "/api", headers: [:], clientCertificate: der)
        guard case .authenticated(let user) = await AuthenticatorChain([ClientCertificateAuthenticator()]).authenticate(request) else {
            Issue.record("the certificate did not authenticate")
            return
        }
        #expect(user.name == "jane")
        #expect(user.groups == ["dev", "qa", "system:authenticated"])
    }

    @Test func tokenFilesParseQuotedGroups() {
        #expect(TokenFileAuthenticator.csvFields(#"tok,bob,7,"a,b""#) == ["tok", "bob", "7", "a,b"])
        #expect(TokenFileAuthenticator.csvFields(#"tok,"x""y",7"#) == ["tok", "x\"y", "7"])
    }

    @Test func discoveryListsEveryCatalogResourceConsistently() throws {
        let catalog = try ResourceCatalog.builtIn()
        let discovery = Discovery(catalog: catalog)
        let apps = try #require(discovery.resourceList(group: "apps", version: "v1"))
        let names = (apps["resources"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
        #expect(names.contains("deployments") && names.contains("deployments/scale") && names.contains("deployments/status"))
        let aggregated = discovery.aggregated(core: false, apiVersion: "apidiscovery.k8s.io/v2")
        let groups = (aggregated["items"]?.arrayValue ?? []).compactMap { $0[path: ["metadata", "name"]]?.stringValue }
        #expect(groups.contains("apps") && groups.contains("rbac.authorization.k8s.io") && !groups.contains(""))
        let autoscaling = try #require(discovery.group(named: "autoscaling"))
        #expect(autoscaling[path: ["preferredVersion", "version"]] == "v2")
        // Every resource with a schema has an OpenAPI v3 path whose PATCH carries fieldValidation.
        let openAPI = try OpenAPIBuilder(catalog: catalog, definitions: try OpenAPIBuilder.loadDefinitions())
        for resource in catalog.resources where resource.verbs.contains("patch") {
            let base = resource.group.isEmpty ? "api/\(resource.version)" : "apis/\(resource.group)/\(resource.version)"
            let document = try JSON.parse(try #require(openAPI.v3Documents[base]))
            let path = "/\(base)\(resource.namespaced ? "/namespaces/{namespace}" : "")/\(resource.plural)/{name}"
            let parameters = document[path: ["paths", path, "patch", "parameters"]]?.arrayValue ?? []
            #expect(parameters.contains { $0["name"] == "fieldValidation" }, "\(path)")
        }
    }
}
