import Logging

/// Keeps every APIService's `Available` condition, as kube-aggregator's availability
/// controllers do: a local APIService is always available; one served by a Service is
/// available when the Service exists with the APIService's port, has a ready endpoint, and
/// answers its discovery document (``DiscoveryProbe``). The probe's document is what
/// discovery lists for the group version. Also registers an APIService for every group
/// version this server serves (``LocalAPIServices``).
///
/// Every server runs it (each proxies and serves discovery); APIServices are checked when
/// they change, and again every ``interval`` (``retryInterval`` while one is unavailable:
/// a Service or its endpoints may have appeared).
struct APIServiceAvailabilityController: Sendable {
    static let interval = Duration.seconds(10)
    static let retryInterval = Duration.seconds(2)

    let registry: APIServiceRegistry
    let store: any ObjectStore
    let client: LoopbackClient
    let probe: DiscoveryProbe
    let endpoints: ServiceEndpoints
    let local: LocalAPIServices
    let logger: Logger

    func run() async {
        var checkedGeneration = -1
        var registeredCatalog = -1
        var lastCheck = ContinuousClock.now
        var anyUnavailable = false
        while !Task.isCancelled {
            let catalogGeneration = local.catalog.generation
            if catalogGeneration != registeredCatalog {
                do {
                    try await local.register()
                    registeredCatalog = catalogGeneration
                } catch {
                    logger.warning("the local APIServices could not be registered: \(error)")
                }
            }
            let generation = registry.generation.services
            let due = lastCheck + (anyUnavailable ? Self.retryInterval : Self.interval)
            if generation != checkedGeneration || ContinuousClock.now >= due {
                checkedGeneration = generation
                lastCheck = ContinuousClock.now
                anyUnavailable = await checkAll()
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }

    /// Checks every APIService at once and writes the conditions that changed; answers
    /// whether any is unavailable.
    func checkAll() async -> Bool {
        let services = registry.services
        registry.forgetDiscovery(except: Set(services.map(\.name)))
        return await withTaskGroup(of: Bool.self) { group in
            for service in services {
                group.addTask {
                    let condition = await check(service)
                    do {
                        try await record(condition, for: service)
                    } catch {
                        logger.warning("the status of the APIService \(service.name) could not be written: \(error)")
                    }
                    return condition.status == "True"
                }
            }
            var anyUnavailable = false
            for await available in group where !available { anyUnavailable = true }
            return anyUnavailable
        }
    }

    typealias Condition = AggregatedAPIService.AvailableCondition

    /// The `Available` condition `service` has now.
    func check(_ service: AggregatedAPIService) async -> Condition {
        guard let reference = service.service else {
            return Condition(status: "True", reason: "Local", message: "Local APIServices are always available")
        }
        let what = "service/\(reference.name) in \"\(reference.namespace)\""
        let stored: JSON
        do {
            guard let found = try await store.get(RegistryKey(group: "", resource: "services", namespace: reference.namespace,
                                                             name: reference.name).path) else {
                return Condition(status: "False", reason: "ServiceNotFound", message: "\(what) is not present")
            }
            stored = found.object
        } catch {
            return Condition(status: "Unknown", reason: "ServiceAccessError", message: "\(what) cannot be checked due to: \(error)")
        }
        let ports = stored[path: ["spec", "ports"]]?.arrayValue ?? []
        guard let port = ports.first(where: { $0["port"]?.intValue == Int64(reference.port) }) else {
            return Condition(status: "False", reason: "ServicePortError", message: "\(what) is not listening on port \(reference.port)")
        }
        let address: (address: String, port: Int)
        do {
            address = try await endpoints.readyEndpoint(namespace: reference.namespace, service: reference.name, port: reference.port)
        } catch {
            let portName = port["name"]?.stringValue ?? ""
            return Condition(status: "False", reason: "MissingEndpoints",
                             message: "endpointslices for \(what) have no addresses with port name \"\(portName)\"")
        }
        do {
            let answer = try await probe.fetch(service, host: address.address, port: address.port)
            registry.recordDiscovery(service.name, resources: answer.resources)
            registry.recordOpenAPI(service.name, path: answer.openAPIPath)
        } catch {
            registry.recordDiscovery(service.name, resources: nil)
            registry.recordOpenAPI(service.name, path: nil)
            return Condition(status: "False", reason: "FailedDiscoveryCheck", message: error.description)
        }
        return Condition(status: "True", reason: "Passed", message: "all checks passed")
    }

    /// Writes `condition` into the APIService's status unless it already says so (as the
    /// watched object tells, so that an unchanged condition costs no store read); the
    /// transition time changes only with the status.
    func record(_ condition: Condition, for service: AggregatedAPIService) async throws {
        guard service.condition != condition else { return }
        let key = RegistryKey(group: "apiregistration.k8s.io", resource: "apiservices", namespace: nil, name: service.name).path
        try await client.guaranteedUpdate(key, in: store, subresource: "status") { current in
            var object = current.object
            let existing = AggregatedAPIService.availableCondition(of: object)
            let now = Condition(status: existing?["status"]?.stringValue ?? "", reason: existing?["reason"]?.stringValue ?? "",
                                message: existing?["message"]?.stringValue ?? "")
            guard now != condition else { return nil }
            if now.status != condition.status {
                logger.info("APIService \(service.name) is now Available=\(condition.status): \(condition.reason) \(condition.message)")
                if condition.status != "True" { registry.recordUnavailable(service.name, reason: condition.reason) }
            }
            var conditions = (object[path: ["status", "conditions"]]?.arrayValue ?? []).filter { $0["type"]?.stringValue != "Available" }
            let transition = now.status == condition.status ? (existing?["lastTransitionTime"] ?? .string(ResourceEngine.now()))
                                                             : .string(ResourceEngine.now())
            conditions.insert(["type": "Available", "status": .string(condition.status), "lastTransitionTime": transition,
                               "reason": .string(condition.reason), "message": .string(condition.message)], at: 0)
            object[path: ["status", "conditions"]] = .array(conditions)
            return object
        }
    }
}
