import Foundation
import Logging
import NIOHTTP1
import Synchronization

/// The Kubernetes API: authenticates each request, then routes it to the health, version,
/// metrics, discovery and OpenAPI endpoints or to the resource engine, logging and counting
/// every request.
public final class KubernetesAPI: HTTPResponder {
    let engine: ResourceEngine
    let catalog: ResourceCatalog
    /// The discovery and OpenAPI documents, built again when the catalog changes (custom
    /// resources come and go).
    private let documents: Mutex<(generation: DocumentsGeneration, discovery: DiscoveryDocuments, openAPI: OpenAPIBuilder)>
    /// What the documents were built from: the catalog's generation, and the APIServices'
    /// and their discovery documents'.
    private struct DocumentsGeneration: Equatable {
        var catalog: Int
        var services = -1
        var discovery = -1
    }
    let builtInDefinitions: [String: JSON]
    /// The address clients reach this server at, for `/api`'s `serverAddressByClientCIDRs`
    /// (known once the listener is bound).
    let serverAddress = Mutex("")
    let authenticator: any Authenticator
    let authorizer: any Authorizer
    let protobuf: KubernetesProtobuf
    let metrics: APIMetrics
    /// The audit log, when the server keeps one.
    let audit: AuditLog?
    /// gzip for large whole answers.
    let compression = ResponseCompression()
    let impersonation: Impersonation
    /// Custom resources, caught up with when a request names a resource not (yet) served.
    let customResources: CustomResourceRegistry?
    /// The APIServices: requests to aggregated API servers' group versions are proxied, and
    /// discovery lists their groups.
    let aggregator: Aggregator?
    let logger: Logger

    /// Paths anonymous clients may read.
    static let publicPaths: Set<String> = ["/healthz", "/livez", "/readyz", "/version"]

    public init(engine: ResourceEngine, catalog: ResourceCatalog, definitions: [String: JSON],
                authenticator: any Authenticator, authorizer: any Authorizer, metrics: APIMetrics,
                audit: AuditLog? = nil, customResources: CustomResourceRegistry? = nil, aggregator: Aggregator? = nil,
                logger: Logger) throws {
        self.audit = audit
        self.aggregator = aggregator
        self.customResources = customResources
        self.impersonation = Impersonation(authorizer: authorizer)
        self.engine = engine
        self.catalog = catalog
        self.builtInDefinitions = definitions
        documents = Mutex((DocumentsGeneration(catalog: catalog.generation), DiscoveryDocuments(Discovery(catalog: catalog), catalog: catalog),
                           try OpenAPIBuilder(catalog: catalog, definitions: definitions)))
        self.protobuf = KubernetesProtobuf(schema: try ProtobufSchema.builtIn())
        self.authenticator = authenticator
        self.authorizer = authorizer
        self.metrics = metrics
        self.logger = logger
    }

    /// The documents for the catalog as it is now.
    var current: (discovery: DiscoveryDocuments, openAPI: OpenAPIBuilder) {
        var generation = DocumentsGeneration(catalog: catalog.generation)
        if let registry = aggregator?.registry {
            (generation.services, generation.discovery) = registry.generation
        }
        return documents.withLock { documents in
            guard documents.generation != generation else { return (documents.discovery, documents.openAPI) }
            let discovery = DiscoveryDocuments(Discovery(catalog: catalog, remote: aggregator?.registry.remoteGroupVersions ?? []),
                                               catalog: catalog)
            guard documents.generation.catalog != generation.catalog else {
                // Only the aggregated group versions changed: the OpenAPI documents stand.
                documents = (generation, discovery, documents.openAPI)
                return (documents.discovery, documents.openAPI)
            }
            do {
                let openAPI = try OpenAPIBuilder(catalog: catalog,
                                                 definitions: builtInDefinitions.merging(engine.definitions.customSchemas) { $1 })
                documents = (generation, discovery, openAPI)
            } catch {
                // Discovery follows the catalog; the OpenAPI documents stay as they were until
                // the catalog changes again, and the log says why.
                logger.error("the OpenAPI documents could not be rebuilt for the new resources; serving the previous ones: \(error)")
                documents = (generation, discovery, documents.openAPI)
            }
            return (documents.discovery, documents.openAPI)
        }
    }

    public func respond(to request: HTTPRequest) async -> HTTPResponse {
        await respond(to: request, preauthenticated: nil)
    }

    /// Answers a request made inside the server by `user` (a ``LoopbackClient``): everything
    /// a client's request passes but authentication.
    func respond(to request: HTTPRequest, as user: UserInfo) async -> HTTPResponse {
        await respond(to: request, preauthenticated: user)
    }

    private func respond(to request: HTTPRequest, preauthenticated: UserInfo?) async -> HTTPResponse {
        let started = ContinuousClock.now, received = Date()
        var user: UserInfo? = nil
        var requestInfo: RequestInfo? = nil
        var verb = request.method.rawValue.lowercased()
        var counted: (info: RequestInfo, descriptor: ResourceDescriptor?)? = nil
        var response: HTTPResponse
        var format = ResponseFormat.json
        /// An aggregated request's resource, for its metrics (only names its server listed).
        var aggregatedResource: String? = nil
        do {
            if let preauthenticated {
                user = preauthenticated
            } else {
                switch await authenticator.authenticate(request) {
                case .authenticated(let u): user = try await impersonation.effectiveUser(request, authenticated: u)
                case .rejected: throw StatusError.unauthorized
                case .unavailable(let why):
                    logger.warning("a credential could not be checked: \(why)")
                    throw StatusError.serviceUnavailable("the credential could not be checked now; try again")
                case .noCredential:
                    let isPublic = Self.publicPaths.contains(where: { request.path == $0 || request.path.hasPrefix($0 + "/") })
                    if !isPublic { throw StatusError.unauthorized }
                }
            }
            let parsed = RequestInfo(method: request.method, path: request.path, query: request.query)
            // One catalog lookup serves the request and labels its metrics.
            let descriptor = parsed.flatMap { catalog.resource(group: $0.group, version: $0.version, plural: $0.resource) }
            // A resource served here never looks further; anything else under `/apis/` may be
            // an aggregated API server's.
            if descriptor == nil, let aggregator, let service = aggregator.target(of: request.path) {
                // Authorized here, as any request; the aggregated server may check again.
                guard let user else { throw StatusError.unauthorized }
                if let info = parsed {
                    requestInfo = info
                    verb = info.verb.rawValue
                    try await authorize(info, user: user, fieldSelector: request.parameter("fieldSelector") ?? "")
                    let named = info.resource + (info.subresource.map { "/" + $0 } ?? "")
                    aggregatedResource = aggregator.registry.lists(named, in: service) ? named + "." + service.group : ""
                } else {
                    try await authorizePath(request, user: user)
                    aggregatedResource = ""
                }
                response = try await aggregator.proxy.serve(request, to: service, user: user)
            } else if let info = parsed {
                requestInfo = info
                verb = info.verb.rawValue
                counted = (info, descriptor)
                guard let user else { throw StatusError.unauthorized }
                try await authorize(info, user: user, fieldSelector: request.parameter("fieldSelector") ?? "")
                response = try await serveResource(info, descriptor, request, user: user, format: &format)
            } else if let aggregator, let service = aggregator.openAPITarget(of: request.path) {
                // An aggregated group version's OpenAPI document is its server's.
                guard let user else { throw StatusError.unauthorized }
                try await authorizePath(request, user: user)
                response = try await aggregator.proxy.serve(request, to: service, user: user)
            } else {
                if let user { try await authorizePath(request, user: user) }
                response = try serveMeta(request, user: user)
            }
        } catch {
            response = ResourceEngine.translate(error).response
        }
        let code = Int(response.status.code)
        // The audit log records the answer as JSON, whatever the wire carries.
        audit?.record(request: request, user: user, verb: verb, info: requestInfo, response: response, received: received,
                      protobuf: protobuf)
        if format.encoding == .protobuf { response = protobufResponse(response) }
        compression.apply(to: &response, for: request)
        var (metricVerb, metricResource) = Self.metricLabels(verb: verb, counted: counted)
        if let aggregatedResource { metricResource = aggregatedResource }
        if case .stream(let produce) = response.body, verb == RequestInfo.Verb.watch.rawValue {
            // Count watches while they run; log when they end.
            let metrics = self.metrics, logger = self.logger, who = user?.name ?? "anonymous"
            let line = "\(request.method.rawValue) \(request.path) \(code) \(who)"
            response.body = .stream { writer in
                metrics.watchStarted()
                defer {
                    metrics.watchEnded()
                    logger.info("\(line) watch ended after \(ContinuousClock.now - started)")
                }
                try await produce(writer)
            }
        } else if case .stream(let produce) = response.body {
            // A backend's answer relayed as it comes (an aggregated server's chunked list, a
            // followed log): counted and logged when it ends.
            let metrics = self.metrics, logger = self.logger, who = user?.name ?? "anonymous"
            let line = "\(request.method.rawValue) \(request.path) \(code)"
            response.body = .stream { [metricVerb, metricResource] writer in
                defer {
                    let seconds = (ContinuousClock.now - started).inSeconds
                    metrics.record(verb: metricVerb, resource: metricResource, code: code, seconds: seconds)
                    logger.info("\(line) \(String(format: "%.1f", seconds * 1000))ms \(who) (streamed)")
                }
                try await produce(writer)
            }
        } else {
            let seconds = (ContinuousClock.now - started).inSeconds
            metrics.record(verb: metricVerb, resource: metricResource, code: code, seconds: seconds)
            logger.info("\(request.method.rawValue) \(request.path) \(code) \(String(format: "%.1f", seconds * 1000))ms \(user?.name ?? "anonymous")")
        }
        return response
    }

    /// Authorizes a non-resource request: by its lower-cased method (HEAD as get) and path.
    private func authorizePath(_ request: HTTPRequest, user: UserInfo) async throws {
        let method = request.method == .HEAD ? "get" : request.method.rawValue.lowercased()
        var attributes = AuthorizationAttributes(user: user, verb: method, isResourceRequest: false)
        attributes.path = request.path
        let decision = await authorizer.authorize(attributes)
        if !decision.allowed {
            throw StatusError.forbidden("forbidden: User \"\(user.name)\" cannot \(attributes.verb) path \"\(request.path)\"")
        }
    }

    /// Asks the authorizer; a refusal is a 403 in kube-apiserver's wording.
    private func authorize(_ info: RequestInfo, user: UserInfo, fieldSelector: String) async throws {
        var attributes = AuthorizationAttributes(user: user, verb: info.verb.rawValue, isResourceRequest: true)
        attributes.fieldSelector = fieldSelector
        attributes.group = info.group
        attributes.version = info.version
        attributes.resource = info.resource
        attributes.subresource = info.subresource ?? ""
        attributes.namespace = info.namespace ?? ""
        attributes.name = info.name ?? ""
        // A list or watch of one object by `metadata.name` is authorized as that object, as
        // kube-apiserver's request info names it (kubelets watch their own Node this way).
        if attributes.name.isEmpty, info.verb == .list || info.verb == .watch,
           let named = FieldSelectorTerms(fieldSelector).equals("metadata.name") {
            attributes.name = named
        }
        let decision = await authorizer.authorize(attributes)
        guard !decision.allowed else { return }
        let what = info.resource + (info.subresource.map { "/" + $0 } ?? "")
        let qualified = info.group.isEmpty ? info.resource : info.resource + "." + info.group
        let scope = info.namespace.map { "in the namespace \"\($0)\"" } ?? "at the cluster scope"
        throw StatusError(code: 403, reason: "Forbidden",
                          message: "\(qualified)\(info.name.map { " \"\($0)\"" } ?? "") is forbidden: User \"\(user.name)\" cannot \(info.verb.rawValue) resource \"\(what)\" in API group \"\(info.group)\" \(scope)"
                              + (decision.reason.isEmpty ? "" : ": " + decision.reason),
                          details: ["name": .string(info.name ?? ""), "group": .string(info.group), "kind": .string(info.resource)])
    }

    /// A JSON answer rewritten in protobuf, when its kind has a protobuf message: errors and
    /// the answers the engine does not write itself (objects and lists it writes directly).
    func protobufResponse(_ response: HTTPResponse) -> HTTPResponse {
        guard case .bytes(let body) = response.body,
              response.headers.first(name: "content-type")?.hasPrefix("application/json") == true,
              let object = try? JSON.parse(body), let encoded = protobuf.encode(object) else { return response }
        var rewritten = response
        rewritten.headers.replaceOrAdd(name: "Content-Type", value: KubernetesProtobuf.mediaType)
        rewritten.body = .bytes(encoded)
        return rewritten
    }

    /// The conversions (`as=`) an endpoint offers.
    static func conversions(_ verb: RequestInfo.Verb) -> Set<ResponseFormat.Target> {
        switch verb {
        case .list: return [.table, .partialObjectMetadataList]
        default: return [.table, .partialObjectMetadata]
        }
    }

    private static let metricVerbs: Set<String> = ["get", "list", "watch", "create", "update", "patch", "delete",
                                                   "deletecollection", "post", "put", "head", "options"]

    /// The verb and resource a request is counted under: only names the server knows, so that
    /// no client can grow the metrics with names of its own (unknown ones count as "other" and "").
    private static func metricLabels(verb: String, counted: (info: RequestInfo, descriptor: ResourceDescriptor?)?) -> (String, String) {
        let knownVerb = metricVerbs.contains(verb) ? verb : "other"
        guard let counted, let descriptor = counted.descriptor else { return (knownVerb, "") }
        if let sub = counted.info.subresource, descriptor.subresources.contains(sub) {
            return (knownVerb, descriptor.plural + "/" + sub)
        }
        return (knownVerb, descriptor.plural)
    }

    private func serveResource(_ info: RequestInfo, _ descriptor: ResourceDescriptor?, _ request: HTTPRequest, user: UserInfo,
                               format: inout ResponseFormat) async throws -> HTTPResponse {
        var found = descriptor
        if found == nil, let customResources {
            // A definition created a moment ago may not be in this server's catalog yet.
            await customResources.catchUp()
            found = catalog.resource(group: info.group, version: info.version, plural: info.resource)
        }
        guard let resource = found else { throw StatusError.notFoundPath(request.path) }
        if resource.namespaced, info.namespace == nil, info.name != nil, resource.isStored {
            throw StatusError.notFoundPath(request.path)
        }
        if !resource.namespaced, info.namespace != nil, info.resource != "namespaces" {
            throw StatusError.notFoundPath(request.path)
        }
        if let namespace = info.namespace, !NameValidation.labelErrors(namespace).isEmpty, resource.namespaced {
            throw StatusError.notFound(resource, name: info.name ?? "")
        }
        // Reviews and other create-only resources convert to nothing (406 for as=Table).
        if let sub = info.subresource, RequestInfo.connectSubresources.contains(sub) {
            // A backend's answer is relayed as it is; only the server's own errors are JSON.
            format = .json
        } else {
            format = try ResponseFormat.negotiate(accept: request.headers.first(name: "accept"), protobuf: resource.custom == nil,
                                                  targets: resource.isStored ? Self.conversions(info.verb) : [])
        }
        var resourceRequest = ResourceRequest(info: info, resource: resource, strategy: engine.kinds.strategy(for: resource),
                                              http: request, user: user, protobuf: protobuf)
        resourceRequest.format = format
        return try await engine.handle(resourceRequest)
    }

    private func serveMeta(_ request: HTTPRequest, user: UserInfo?) throws -> HTTPResponse {
        if request.path.contains("//") { throw StatusError.notFoundPath(request.path) }
        guard request.method == .GET || request.method == .HEAD else {
            throw StatusError.methodNotAllowed("the server does not allow this method on the requested resource")
        }
        let path = request.path.count > 1 && request.path.hasSuffix("/") ? String(request.path.dropLast()) : request.path
        let parts = path.split(separator: "/").map(String.init)
        switch parts.first {
        case "healthz", "livez", "readyz":
            return .text(.ok, "ok")
        case "version" where parts.count == 1:
            return .json(.ok, Self.version)
        case "metrics" where parts.count == 1:
            let text = metrics.render() + (aggregator?.registry.renderMetrics() ?? "")
            return HTTPResponse(status: .ok, headers: ["Content-Type": "text/plain; version=0.0.4"], body: .bytes(Array(text.utf8)))
        case "api", "apis":
            if parts.count == 1, let aggregated = aggregatedResponse(request, core: parts[0] == "api") { return aggregated }
            if path == "/api" { return .json(.ok, Discovery.coreVersions(serverAddress: serverAddress.withLock { $0 })) }
            if let document = current.discovery.legacy[path] {
                return HTTPResponse(status: .ok, headers: ["Content-Type": "application/json"], body: .bytes(document))
            }
        case "openapi" where parts.count == 2 && parts[1] == "v2":
            let accept = request.headers.first(name: "accept") ?? "application/json"
            if accept.contains("com.github.proto-openapi.spec.v2") {
                return HTTPResponse(status: .ok, headers: ["Content-Type": OpenAPIV2Protobuf.contentType], body: .bytes(current.openAPI.v2Protobuf))
            }
            if !accept.contains("json") && !accept.contains("*/*") {
                throw StatusError.notAcceptable("the OpenAPI v2 document is served as application/json or \(OpenAPIV2Protobuf.mediaType)")
            }
            return HTTPResponse(status: .ok, headers: ["Content-Type": "application/json"], body: .bytes(current.openAPI.v2Document))
        case "openapi" where parts.count == 2 && parts[1] == "v3":
            var root = current.openAPI.v3Root
            // The aggregated servers' group versions, at their servers' own URLs (proxied).
            for (key, url) in aggregator?.registry.openAPIPaths ?? [:] {
                root[path: ["paths", key]] = ["serverRelativeURL": .string(url)]
            }
            return .json(.ok, root)
        case "openapi" where parts.count > 2 && parts[1] == "v3":
            let key = parts.dropFirst(2).joined(separator: "/")
            if let document = current.openAPI.v3Documents[key] {
                return HTTPResponse(status: .ok, headers: ["Content-Type": "application/json", "Cache-Control": "public, immutable"],
                                    body: .bytes(document))
            }
        default:
            break
        }
        throw StatusError.notFoundPath(request.path)
    }

    /// The aggregated discovery document when the client's Accept header prefers it.
    private func aggregatedResponse(_ request: HTTPRequest, core: Bool) -> HTTPResponse? {
        guard let accept = request.headers.first(name: "accept") else { return nil }
        for media in accept.split(separator: ",") {
            let parameters = Set(media.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) })
            guard parameters.contains("as=APIGroupDiscoveryList"), parameters.contains("g=apidiscovery.k8s.io") else {
                if parameters.contains("application/json") || parameters.contains("*/*") { return nil }
                continue
            }
            let version = parameters.contains("v=v2") ? "v2" : parameters.contains("v=v2beta1") ? "v2beta1" : nil
            guard let version, let document = current.discovery.aggregated(core: core, version: version) else { continue }
            return HTTPResponse(status: .ok, headers: ["Content-Type": "application/json;g=apidiscovery.k8s.io;v=\(version);as=APIGroupDiscoveryList"],
                                body: .bytes(document))
        }
        return nil
    }

    /// `/version`.
    static var version: JSON {
        ["major": .string(SkiffVersion.kubernetesMajor), "minor": .string(SkiffVersion.kubernetesMinor),
         "emulationMajor": .string(SkiffVersion.kubernetesMajor), "emulationMinor": .string(SkiffVersion.kubernetesMinor),
         "minCompatibilityMajor": .string(SkiffVersion.kubernetesMajor), "minCompatibilityMinor": .string(SkiffVersion.kubernetesMinor),
         "gitVersion": .string(SkiffVersion.gitVersion), "gitCommit": "", "gitTreeState": "clean",
         "buildDate": "", "goVersion": "swift", "compiler": "swiftc", "platform": .string("linux/\(Self.architecture)")]
    }

    static var architecture: String {
        #if arch(x86_64)
        return "amd64"
        #elseif arch(arm64)
        return "arm64"
        #else
        return "unknown"
        #endif
    }
}
