import Testing
@testable import APIServer

@Suite(.timeLimit(.minutes(10))) struct RegistryKeyTests {
    @Test func namespacedKeysRoundTrip() {
        let key = RegistryKey(group: "apps", resource: "deployments", namespace: "default", name: "web")
        #expect(key.path == "/registry/apps/deployments/default/web")
        #expect(RegistryKey(parsing: key.path, namespaced: true) == key)
    }

    @Test func coreGroupIsSpelledCore() {
        let key = RegistryKey(group: "", resource: "configmaps", namespace: "kube-system", name: "x")
        #expect(key.path == "/registry/core/configmaps/kube-system/x")
        #expect(RegistryKey(parsing: key.path, namespaced: true)?.group == "")
    }

    @Test func clusterScopedKeysHaveNoNamespace() {
        let key = RegistryKey(group: "", resource: "namespaces", namespace: nil, name: "default")
        #expect(key.path == "/registry/core/namespaces/default")
        #expect(RegistryKey(parsing: key.path, namespaced: false) == key)
        #expect(RegistryKey(parsing: key.path, namespaced: true) == nil)
    }

    @Test func prefixesDoNotLeakAcrossNamespaces() {
        let a = RegistryKey.namespacePrefix(group: "", resource: "pods", namespace: "a")
        let inAB = RegistryKey(group: "", resource: "pods", namespace: "ab", name: "p").path
        #expect(!inAB.hasPrefix(a))
        #expect(inAB.hasPrefix(RegistryKey.resourcePrefix(group: "", resource: "pods")))
    }

    @Test func malformedKeysAreRejected() {
        #expect(RegistryKey(parsing: "/other/core/pods/a/b", namespaced: true) == nil)
        #expect(RegistryKey(parsing: "/registry/core/pods//b", namespaced: true) == nil)
        #expect(RegistryKey(parsing: "/registry/core/pods/a/b/c", namespaced: true) == nil)
    }

    @Test func versionCarriesTheAPIVersionAndSkiffs() {
        #expect(SkiffVersion.gitVersion.hasPrefix("v1.34."))
        #expect(SkiffVersion.gitVersion.hasSuffix("+skiff.\(SkiffVersion.skiff)"))
    }
}
