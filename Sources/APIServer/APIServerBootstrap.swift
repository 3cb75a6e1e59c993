import Foundation
import Logging
import NIOSSL
import SystemFigures

/// Everything `skiff server` runs, wired from its configuration: the PKI, the default
/// namespaces, the engine, and the HTTPS listener.
public struct APIServerBootstrap: Sendable {
    public struct Configuration: Sendable {
        public var dataDirectory: String
        public var host: String
        public var port: Int
        public var extraSANs: [String] = []
        public var tokenAuthFile: String?
        public var maxBodyBytes = 3 * 1024 * 1024
        /// Where Service cluster IPs come from.
        public var serviceClusterIPRange = "10.96.0.0/12"
        /// The audit log's path (none when `nil`) and its policy file (Metadata for all when `nil`).
        public var auditLogPath: String?
        public var auditPolicyFile: String?
        /// How requests are authorized (kube-apiserver's `--authorization-mode`).
        /// The authorizers, in order (kube-apiserver's `--authorization-mode`).
        public var authorizationModes: [AuthorizationMode] = [.node, .rbac]
        /// The listener's timeouts, connection cap and header limits.
        public var httpLimits = HTTPLimits()
        /// Which control loops run (kube-controller-manager's `--controllers`).
        public var controllers = ControllerSelection.all

        public init(dataDirectory: String, host: String, port: Int) {
            self.dataDirectory = dataDirectory
            self.host = host
            self.port = port
        }
    }

    /// The namespaces every cluster has.
    public static let defaultNamespaces = ["default", "kube-system", "kube-public", "kube-node-lease"]

    public let server: HTTPServer
    public let pki: ClusterPKI
    /// The control loops that run beside the server.
    public let serviceAccounts: ServiceAccountController
    public let namespaces: NamespaceController
    public let garbageCollector: GarbageCollector
    public let clusterRoleAggregator: ClusterRoleAggregator
    public let resourceQuotas: ResourceQuotaController
    /// The roles and bindings every request is authorized against (kept on every server).
    let policyCache: RBACPolicyCache
    /// The admission policies, their bindings and the webhook configurations (kept on every server).
    let admissionPolicies: WatchedObjects
    /// The resource quotas (which namespaces have any), for quota admission.
    let quotas: WatchedObjects
    /// The custom resources' definitions (served on every server).
    let customResources: CustomResourceRegistry
    /// The APIServices (every server proxies to aggregated API servers), and the loop that
    /// keeps their availability and discovery.
    let apiServices: APIServiceRegistry
    let apiServiceAvailability: APIServiceAvailabilityController
    /// The Service endpoints webhook calls and aggregated requests go to.
    let endpointCache: EndpointCache
    public let customResourceDefinitions: CustomResourceDefinitionController
    let objects: any ObjectStore
    /// The same store: its watch caches run with the other caches.
    let cachedObjects: CachingObjectStore
    /// Where the loops' clients send their writes, and what they resolve keys with.
    let loopback: LoopbackTarget
    let catalog: ResourceCatalog
    let serviceAddresses: ServiceAddressAllocator
    let api: KubernetesAPI
    let dataDirectory: String
    let logger: Logger
    /// Which control loops run.
    let selection: ControllerSelection
    let certificateSigning: CertificateSigningController
    /// The node authorizer's index of what pods use (with `--authorization-mode` Node).
    let nodeGraph: NodeGraphIndex?
    /// What service account tokens name (accounts, and the objects tokens are bound to).
    let tokenObjects: TokenObjects
    /// The bootstrap tokens' Secrets.
    let bootstrapTokens: WatchedObjects
    /// Service account tokens whose signature was checked.
    let verifiedTokens: VerifiedTokenCache
    /// The host clients on this machine use (loopback when listening on every address).
    let localHost: String
    /// The host the `kubernetes` Endpoints advertise (a real interface address when
    /// listening on every address).
    let advertisedHost: String

    /// The control loops, each to run until cancelled.
    /// The control loops the configuration selects, each to run until cancelled. The
    /// CustomResourceDefinition loop always runs: it is the API server's own (kube-apiserver's
    /// apiextensions), not one of kube-controller-manager's.
    public var controllers: [@Sendable () async -> Void] {
        let serviceAccounts = self.serviceAccounts, namespaces = self.namespaces, collector = garbageCollector
        let aggregator = clusterRoleAggregator, quotas = resourceQuotas, crds = customResourceDefinitions
        let signing = certificateSigning
        var loops: [@Sendable () async -> Void] = [{ await crds.run() }]
        if selection.runsServiceAccounts { loops.append { await serviceAccounts.run() } }
        if selection.runs(.namespace) { loops.append { await namespaces.run() } }
        if selection.runs(.garbagecollector) { loops.append { await collector.run() } }
        if selection.runs(.clusterroleAggregation) { loops.append { await aggregator.run() } }
        if selection.runs(.resourcequota) { loops.append { await quotas.run() } }
        if selection.runs(.certificateSigning) { loops.append { await signing.run() } }
        return loops
    }

    /// Keeps the server's watched caches current (the RBAC policy, quotas, custom resources,
    /// admission policies, the node authorizer's index, what credentials name, the
    /// APIServices and their availability) until cancelled. Every server runs this, whether or not it runs the control loops.
    public func runCaches() async {
        let caches: [@Sendable () async -> Void] = [
            { [policyCache] in await policyCache.run() }, { [quotas] in await quotas.run() },
            { [customResources] in await customResources.run() }, { [admissionPolicies] in await admissionPolicies.run() },
            { [tokenObjects] in await tokenObjects.run() }, { [bootstrapTokens] in await bootstrapTokens.run() },
            { [apiServices] in await apiServices.run() }, { [apiServiceAvailability] in await apiServiceAvailability.run() },
            { [endpointCache] in await endpointCache.run() }, { [cachedObjects] in await cachedObjects.run() },
        ] + (nodeGraph.map { graph in [{ await graph.run() }] } ?? [])
        await withTaskGroup(of: Void.self) { group in
            for cache in caches { group.addTask { await cache() } }
        }
    }

    /// Keeps the caches current (``runCaches()``), and runs ``controllers`` while this server
    /// holds the controller lease (one server of a cluster at a time; at once on a single
    /// server), until cancelled.
    public func runControllers(identity: String) async {
        let controllers = controllers
        let elector = LeaderElector(store: objects, client: LoopbackClient(target: loopback, catalog: catalog, loop: "leader-election"),
                                    identity: identity, logger: logger)
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.runCaches() }
            group.addTask { await elector.run(controllers) }
        }
    }

    /// Adds figures (Prometheus text, made at each scrape) to what `/metrics` serves, such as
    /// the dqlite node process's.
    public func reportMetrics(_ render: @escaping @Sendable () -> String) {
        api.metrics.report(render)
    }

    public init(configuration: Configuration, store: any ObjectStore, logger: Logger) async throws {
        let pki = try ClusterPKI.ensure(dataDirectory: configuration.dataDirectory,
                                        subjectAlternativeNames: HostIdentity.subjectAlternativeNames(extra: configuration.extraSANs))
        self.pki = pki
        let metrics = APIMetrics()
        // Reads and watches are answered from the watch caches where they can be; what
        // reaches the store is timed.
        let cachedObjects = CachingObjectStore(MeteredObjectStore(store, metrics: metrics), logger: logger)
        metrics.report { [weak cachedObjects] in cachedObjects?.renderMetrics() ?? "" }
        metrics.report { ProcessFigures.current()?.render(prefix: "process", what: "the server process") ?? "" }
        self.cachedObjects = cachedObjects
        let objects: any ObjectStore = cachedObjects
        self.objects = objects
        let serviceAddresses = try ServiceAddressAllocator(store: objects, range: configuration.serviceClusterIPRange)
        self.serviceAddresses = serviceAddresses
        let catalog = try ResourceCatalog.builtIn()
        // Every writer inside the server writes through the API built below, as a loop of its own.
        let loopback = LoopbackTarget()
        func client(_ loop: String) -> LoopbackClient { LoopbackClient(target: loopback, catalog: catalog, loop: loop) }
        self.loopback = loopback
        self.catalog = catalog
        serviceAccounts = ServiceAccountController(store: objects, client: client("serviceaccount-controller"),
                                                   caCertificate: try String(contentsOfFile: pki.caCertificatePath, encoding: .utf8),
                                                   logger: logger)
        // The APIServices, for routing, discovery and the namespace controller.
        let apiServices = APIServiceRegistry(store: objects, catalog: catalog, logger: logger)
        try await apiServices.load()
        self.apiServices = apiServices
        namespaces = NamespaceController(store: objects, client: client("namespace-controller"), catalog: catalog,
                                         aggregated: apiServices, logger: logger)
        garbageCollector = GarbageCollector(store: objects, client: client("garbage-collector"), catalog: catalog, logger: logger)
        let tokenObjects = TokenObjects(store: objects, logger: logger)
        try await tokenObjects.load()
        self.tokenObjects = tokenObjects
        let verifiedTokens = VerifiedTokenCache()
        self.verifiedTokens = verifiedTokens
        let tokens = ServiceAccountTokenAuthenticator(
            tokens: try ServiceAccountTokens(keyPEM: try String(contentsOfFile: pki.serviceAccountKeyPath, encoding: .utf8)),
            objects: tokenObjects, cache: verifiedTokens)
        let bootstrapTokens = WatchedObjects(prefix: BootstrapTokenAuthenticator.secretPrefix, store: objects, logger: logger)
        try await bootstrapTokens.load()
        self.bootstrapTokens = bootstrapTokens
        var authenticators: [any Authenticator] = [ClientCertificateAuthenticator(), tokens, BootstrapTokenAuthenticator(secrets: bootstrapTokens)]
        if let file = configuration.tokenAuthFile { authenticators.append(try TokenFileAuthenticator(path: file)) }
        let authenticator = AuthenticatorChain(authenticators)
        clusterRoleAggregator = ClusterRoleAggregator(store: objects, client: client("clusterrole-aggregator"), logger: logger)
        resourceQuotas = ResourceQuotaController(store: objects, client: client("resourcequota-controller"), logger: logger)
        let policyCache = RBACPolicyCache(store: objects, logger: logger)
        self.policyCache = policyCache
        admissionPolicies = WatchedObjects(prefix: RegistryKey.root + "admissionregistration.k8s.io/", store: objects, logger: logger)
        try await admissionPolicies.load()
        let authorizer: any Authorizer
        // The kubelet-client credential lives in memory only: a new one at each start.
        let kubeletClient = try pki.issueClientCertificate(user: BootstrapPolicy.kubeletClientUser, groups: [])
        let backends = try BackendDialer(certificatePEM: kubeletClient.certificate, keyPEM: kubeletClient.key)
        // Where Services are served (webhooks, aggregated API servers), kept until they change;
        // one caller for admission and conversion webhooks (their call limits are shared).
        let endpointCache = EndpointCache(store: objects, logger: logger)
        self.endpointCache = endpointCache
        let serviceEndpoints = ServiceEndpoints(store: objects, cache: endpointCache)
        let webhookCaller = WebhookCaller(dialer: backends, endpoints: serviceEndpoints)
        let webhooks = WebhookDispatcher(index: WebhookIndex(objects: admissionPolicies), matcher: WebhookMatcher(store: objects, catalog: catalog),
                                         caller: webhookCaller, metrics: metrics.webhooks)
        // Mutating plugins first (the webhooks last of them), then validating ones; quota
        // last, as kube-apiserver orders them.
        var admission: [any AdmissionPlugin] = [NamespaceLifecycleAdmission(store: objects), ServiceAccountAdmission(store: objects), RuntimeClassAdmission(store: objects),
                                                LimitRanger(store: objects),
                                                MutatingWebhookAdmission(dispatcher: webhooks),
                                                PodSecurityAdmission(store: objects),
                                                ValidatingAdmissionPolicyAdmission(objects: admissionPolicies, store: objects, catalog: catalog),
                                                ValidatingWebhookAdmission(dispatcher: webhooks)]
        var authorizers: [any Authorizer] = []
        var nodeGraph: NodeGraphIndex? = nil
        for mode in configuration.authorizationModes {
            switch mode {
            case .node:
                let index = NodeGraphIndex(store: objects, logger: logger)
                try await index.load()
                nodeGraph = index
                authorizers.append(NodeAuthorizer(store: objects, index: index))
                admission.insert(NodeRestrictionAdmission(), at: 2)
            case .rbac:
                let rbac = RBACAuthorizer(cache: policyCache)
                authorizers.append(rbac)
                admission.append(RBACEscalationCheck(authorizer: rbac))
            case .alwaysAllow:
                authorizers.append(AlwaysAllowAuthorizer())
            }
        }
        authorizer = authorizers.count == 1 ? authorizers[0] : AuthorizerChain(authorizers)
        self.nodeGraph = nodeGraph
        admission.append(CertificateSigningRequestAdmission(authorizer: authorizer))
        certificateSigning = CertificateSigningController(store: objects, client: client("certificate-signer"),
                                                          signer: try CertificateSigner(pki: pki), logger: logger)
        quotas = WatchedObjects(prefix: RegistryKey.resourcePrefix(group: "", resource: "resourcequotas"), store: objects, logger: logger)
        try await quotas.load()
        admission.append(ResourceQuotaAdmission(store: objects, quotas: quotas))
        let definitions = try OpenAPIBuilder.loadDefinitions()
        let schemas = SchemaDefinitions(definitions)
        customResources = CustomResourceRegistry(store: objects, catalog: catalog, definitions: schemas, logger: logger)
        try await customResources.load()
        customResourceDefinitions = CustomResourceDefinitionController(store: objects, client: client("crd-controller"), logger: logger)
        var kinds = KindRegistry.builtIn(KindDependencies(serviceAddresses: serviceAddresses, serviceAccountTokens: tokens,
                                                          authenticator: authenticator, authorizer: authorizer, backends: backends))
        kinds.webhooks = webhookCaller
        let engine = ResourceEngine(store: objects, catalog: catalog, kinds: kinds, definitions: schemas,
                                    admission: AdmissionChain(admission), logger: logger)
        let everywhere = configuration.host == "0.0.0.0" || configuration.host == "::"
        localHost = everywhere ? "127.0.0.1" : configuration.host
        advertisedHost = everywhere
            ? (HostIdentity.interfaceAddresses().first { !$0.contains(":") && !$0.hasPrefix("127.") } ?? "127.0.0.1")
            : configuration.host
        dataDirectory = configuration.dataDirectory
        selection = configuration.controllers
        self.logger = logger
        let audit = try configuration.auditLogPath.map { path in
            try AuditLog(path: path, policy: try configuration.auditPolicyFile.map { try AuditPolicy(file: $0) } ?? .metadataForAll)
        }
        // API aggregation: the proxy presents the front proxy's client certificate.
        let frontProxy = try FrontProxyTLS(certificatePEM: try String(contentsOfFile: pki.frontProxyClientCertificatePath, encoding: .utf8),
                                           keyPEM: try String(contentsOfFile: pki.frontProxyClientKeyPath, encoding: .utf8))
        let aggregator = Aggregator(registry: apiServices,
                                    proxy: AggregatorProxy(endpoints: serviceEndpoints, relay: BackendRelay(dialer: backends), tls: frontProxy))
        apiServiceAvailability = APIServiceAvailabilityController(
            registry: apiServices, store: objects, client: client("apiservice-availability"),
            probe: DiscoveryProbe(dialer: backends, tls: frontProxy), endpoints: serviceEndpoints,
            local: LocalAPIServices(catalog: catalog, registry: apiServices, client: client("apiservice-registration")), logger: logger)
        let api = try KubernetesAPI(engine: engine, catalog: catalog, definitions: definitions,
                                    authenticator: authenticator, authorizer: authorizer, metrics: metrics, audit: audit,
                                    customResources: customResources, aggregator: aggregator, logger: logger)
        self.api = api
        loopback.attach(api)
        // What every cluster has, written through the API: the default namespaces, the
        // bootstrap roles and bindings, the aggregated roles' rules. Then the policy is read.
        let bootstrapClient = client("bootstrap")
        try await Self.createDefaultNamespaces(objects, client: bootstrapClient, catalog: catalog)
        try await PolicyReconciler(store: objects, client: client("policy-reconciler")).reconcile()
        try await clusterRoleAggregator.aggregate()
        try await policyCache.load()
        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(pki.serverCertificatePath).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: pki.serverKeyPath, format: .pem)))
        tls.trustRoots = .file(pki.caCertificatePath)
        tls.certificateVerification = .optionalVerification
        tls.applicationProtocols = ["h2", "http/1.1"]
        tls.minimumTLSVersion = .tlsv12
        var http = HTTPServer.Configuration(host: configuration.host, port: configuration.port)
        http.maxBodyBytes = configuration.maxBodyBytes
        http.limits = configuration.httpLimits
        self.server = HTTPServer(configuration: http, sslContext: try NIOSSLContext(configuration: tls), responder: api,
                                 metrics: metrics.connections, logger: logger)
    }

    /// What follows the bind, once the port is known: `/api` names the address, the admin
    /// kubeconfig is written to `DATA_DIR/admin.kubeconfig`, the `kubernetes` Service is
    /// published. Returns the kubeconfig's path.
    public func started(port: Int) async throws -> String {
        api.serverAddress.withLock { $0 = "\(advertisedHost):\(port)" }
        let kubeconfig = dataDirectory + "/admin.kubeconfig"
        try AdminKubeconfig.write(pki: pki, server: "https://\(localHost):\(port)", to: kubeconfig)
        try await publishAPIService(port: port)
        try await publishAuthenticationTrust()
        return kubeconfig
    }

    /// Publishes what aggregated API servers need to trust this server's proxied requests
    /// (``AuthenticationTrust``), merged with what other members of the cluster published.
    func publishAuthenticationTrust() async throws {
        let clientCA = try String(contentsOfFile: pki.caCertificatePath, encoding: .utf8)
        let frontProxyCA = try String(contentsOfFile: pki.frontProxyCACertificatePath, encoding: .utf8)
        let namespace = AuthenticationTrust.namespace
        try await ensure(RegistryKey(group: "", resource: "configmaps", namespace: namespace, name: AuthenticationTrust.configMapName).path,
                         JSON.newObject(apiVersion: "v1", kind: "ConfigMap", name: AuthenticationTrust.configMapName,
                                        namespace: namespace)) { object in
            object["data"] = AuthenticationTrust.data(merging: object["data"], clientCA: clientCA, frontProxyCA: frontProxyCA)
        }
        let role = AuthenticationTrust.readerRole
        try await ensure(RegistryKey(group: "rbac.authorization.k8s.io", resource: "roles", namespace: namespace,
                                     name: AuthenticationTrust.readerRoleName).path, role) { object in
            object["rules"] = role["rules"]
        }
    }

    /// The bootstrap's own client: what it writes goes through the API as `system:skiff:bootstrap`.
    var bootstrapClient: LoopbackClient { LoopbackClient(target: loopback, catalog: catalog, loop: "bootstrap") }

    /// Creates or corrects the `kubernetes` Service in `default` (the first address of the
    /// service range, port 443) and its Endpoints, pointing at this server.
    func publishAPIService(port: Int) async throws {
        let serviceKey = RegistryKey(group: "", resource: "services", namespace: "default", name: "kubernetes").path
        let ports: JSON = [["name": "https", "port": 443, "protocol": "TCP", "targetPort": .int(Int64(port))]]
        var service = JSON.newObject(apiVersion: "v1", kind: "Service", name: "kubernetes", namespace: "default",
                                     labels: ["component": "apiserver", "provider": "kubernetes"])
        service["spec"] = ["type": "ClusterIP", "sessionAffinity": "None", "clusterIP": .string(serviceAddresses.apiServerIP),
                           "internalTrafficPolicy": "Cluster", "ports": ports]
        try await ensure(serviceKey, service) { $0[path: ["spec", "ports"]] = ports }
        let subsets: JSON = [["addresses": [["ip": .string(advertisedHost)]],
                              "ports": [["name": "https", "port": .int(Int64(port)), "protocol": "TCP"]]]]
        try await ensure(RegistryKey(group: "", resource: "endpoints", namespace: "default", name: "kubernetes").path,
                         JSON.newObject(apiVersion: "v1", kind: "Endpoints", name: "kubernetes", namespace: "default",
                                        labels: ["endpointslice.kubernetes.io/skip-mirror": "true"])) { $0["subsets"] = subsets }
        try await ensure(RegistryKey(group: "discovery.k8s.io", resource: "endpointslices", namespace: "default", name: "kubernetes").path,
                         JSON.newObject(apiVersion: "discovery.k8s.io/v1", kind: "EndpointSlice", name: "kubernetes", namespace: "default",
                                        labels: ["kubernetes.io/service-name": "kubernetes"])) { slice in
            slice["addressType"] = "IPv4"
            slice["endpoints"] = [["addresses": [.string(advertisedHost)], "conditions": ["ready": true]]]
            slice["ports"] = [["name": "https", "port": .int(Int64(port)), "protocol": "TCP"]]
        }
        // Since when legacy service account tokens are tracked, as kube-apiserver records it
        // (kube-controller-manager's legacy token cleaner reads it).
        try await ensure(RegistryKey(group: "", resource: "configmaps", namespace: "kube-system",
                                     name: "kube-apiserver-legacy-service-account-token-tracking").path,
                         JSON.newObject(apiVersion: "v1", kind: "ConfigMap", name: "kube-apiserver-legacy-service-account-token-tracking",
                                        namespace: "kube-system")) { object in
            if object[path: ["data", "since"]] == nil {
                object["data"] = ["since": .string(String(ResourceEngine.now().prefix(10)))]
            }
        }
        // The default ServiceCIDR: the --service-cluster-ip-range, kept in step with it.
        let cidr = serviceAddresses.cidr
        try await ensure(RegistryKey(group: "networking.k8s.io", resource: "servicecidrs", namespace: nil, name: "kubernetes").path,
                         JSON.newObject(apiVersion: "networking.k8s.io/v1", kind: "ServiceCIDR", name: "kubernetes")) { object in
            object["spec"] = ["cidrs": [.string(cidr)]]
            if object[path: ["status", "conditions"]] == nil {
                object["status"] = ["conditions": [["type": "Ready", "status": "True", "reason": "",
                                                    "message": "Kubernetes Service CIDR is ready",
                                                    "lastTransitionTime": .string(ResourceEngine.now())]]]
            }
        }
    }

    /// Creates `fresh` with `correct` applied at `key`, or applies `correct` to what is there
    /// and writes it back if that changed it; what `correct` sets in `status` is written
    /// through the status subresource (a create or an update of the object resets it).
    func ensure(_ key: String, _ fresh: JSON, correct: (inout JSON) -> Void) async throws {
        let client = bootstrapClient
        var wanted = fresh
        correct(&wanted)
        var stored = try await objects.get(key)
        if stored == nil { stored = try await client.create(key, wanted) }
        stored = try await client.guaranteedUpdate(key, in: objects) { current in
            var object = current.object
            correct(&object)
            return object
        }
        guard let stored, let status = wanted["status"], stored.object["status"] != status else { return }
        try await client.guaranteedUpdate(key, in: objects, subresource: "status") { current in
            var object = current.object
            correct(&object)
            return object
        }
    }

    /// Creates `default`, `kube-system`, `kube-public` and `kube-node-lease` if missing.
    static func createDefaultNamespaces(_ store: any ObjectStore, client: LoopbackClient, catalog: ResourceCatalog) async throws {
        for name in defaultNamespaces {
            let key = RegistryKey(group: "", resource: "namespaces", namespace: nil, name: name).path
            if try await store.get(key) != nil { continue }
            // The namespace strategy gives it its label, finalizer and phase.
            try await client.create(key, .newObject(apiVersion: "v1", kind: "Namespace", name: name))
        }
    }
}
