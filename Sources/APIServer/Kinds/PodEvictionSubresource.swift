import Foundation

/// POST `pods/NAME/eviction` (policy/v1 Eviction): deletes the pod, with the Eviction's
/// DeleteOptions, unless that would break the PodDisruptionBudget covering it.
///
/// As kube-apiserver: a pod that is not running (Pending, Succeeded, Failed) or already being
/// deleted goes without a budget check. Otherwise the one budget whose selector matches the
/// pod must allow a disruption (`status.disruptionsAllowed` > 0, and the budget's status must
/// have caught up with its spec); the eviction spends it, recording the pod in
/// `status.disruptedPods` for the disruption controller, and then deletes the pod. A budget
/// that allows none answers 429 with the budget's reason; more than one budget is a 500.
struct PodEvictionSubresource: SubresourceHandler {
    /// kube-apiserver's bound on evictions the disruption controller has not yet confirmed.
    static let maxDisruptedPods = 2000
    static let refusal = "Cannot evict pod as it would violate the pod's disruption budget."

    func serve(_ request: ResourceRequest, engine: ResourceEngine) async throws -> HTTPResponse {
        let (name, eviction) = try posted(request, kind: "Eviction")
        var options = eviction["deleteOptions"] ?? .emptyObject
        if options == .null { options = .emptyObject }
        guard case .object = options else { throw StatusError.badRequest("deleteOptions must be an object") }
        options = try ResourceEngine.checkedDeleteOptions(options)
        var deleteRequest = request
        if let dryRun = options["dryRun"]?.arrayValue?.compactMap(\.stringValue), dryRun.contains("All") {
            deleteRequest.http.query["dryRun"] = ["All"]
        }
        // A budget whose status changed between the read and the write is read again.
        for _ in 0..<8 {
            let pod = try await engine.current(request, name: name).object
            if !Self.ignoresBudgets(pod) {
                do {
                    try await spendDisruption(of: pod, name: name, request: deleteRequest, engine: engine)
                } catch let error as StatusError where error.reason == "Conflict" {
                    continue
                }
            }
            _ = try await engine.delete(name, options: options, deleteRequest)
            return .json(.created, ["kind": "Status", "apiVersion": "v1", "metadata": .emptyObject, "status": "Success", "code": 201])
        }
        throw StatusError.tooManyRequests("the disruption budget kept changing while the pod was evicted; try again")
    }

    /// A pod that does not run, or is already going, disrupts nothing a budget counts.
    static func ignoresBudgets(_ pod: JSON) -> Bool {
        if pod[path: ["metadata", "deletionTimestamp"]] != nil { return true }
        return ["Pending", "Succeeded", "Failed"].contains(pod[path: ["status", "phase"]]?.stringValue ?? "Pending")
    }

    /// Checks the budget covering the pod and records the disruption in its status; throws
    /// the refusal when it allows none (a conflict when its status moved meanwhile).
    private func spendDisruption(of pod: JSON, name: String, request: ResourceRequest, engine: ResourceEngine) async throws {
        guard let budgets = engine.catalog.resource(group: "policy", version: "v1", plural: "poddisruptionbudgets") else { return }
        let namespace = request.info.namespace ?? ""
        let labels = (pod[path: ["metadata", "labels"]]?.objectValue ?? [:]).compactMapValues(\.stringValue)
        var covering: [StoredObject] = []
        try await engine.store.forEach(prefix: budgets.namespacePrefix(namespace)) { entry in
            let budget = try entry.decoded()
            // policy/v1: an empty selector selects every pod of the namespace; none selects none.
            guard let selectorJSON = budget[path: ["spec", "selector"]], selectorJSON != .null,
                  let selector = try? LabelSelector(object: selectorJSON), selector.matches(labels) else { return }
            covering.append(StoredObject(object: budget, modRevision: entry.modRevision, key: entry.key))
        }
        guard let budget = covering.first else { return }
        if covering.count > 1 {
            throw StatusError.internalError("This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.")
        }
        let budgetName = budget.object[path: ["metadata", "name"]]?.stringValue ?? ""
        let status = budget.object["status"] ?? .emptyObject
        let generation = budget.object[path: ["metadata", "generation"]]?.intValue ?? 0
        if (status["observedGeneration"]?.intValue ?? 0) < generation {
            throw Self.refused("The disruption budget \(budgetName) is still being processed by the server.")
        }
        let allowed = status["disruptionsAllowed"]?.intValue ?? 0
        if allowed < 0 { throw StatusError.forbidden("pdb disruptions allowed is negative") }
        let disrupted = status["disruptedPods"]?.objectValue ?? [:]
        if disrupted.count > Self.maxDisruptedPods {
            throw StatusError.forbidden("DisruptedPods map too big - too many evictions not confirmed by PDB controller")
        }
        if allowed == 0 {
            let desired = status["desiredHealthy"]?.intValue ?? 0, current = status["currentHealthy"]?.intValue ?? 0
            throw Self.refused("The disruption budget \(budgetName) needs \(desired) healthy pods and has \(current) currently")
        }
        if request.dryRun { return }
        var updated = budget.object
        updated[path: ["status", "disruptionsAllowed"]] = .int(allowed - 1)
        var pods = disrupted
        pods[name] = .string(RFC3339.string(Date()))
        updated[path: ["status", "disruptedPods"]] = .object(pods)
        _ = try await engine.save(updated, over: budget,
                                  request.addressing(budgets, name: budgetName, subresource: "status", kinds: engine.kinds))
    }

    static func refused(_ reason: String) -> StatusError {
        StatusError(code: 429, reason: "TooManyRequests", message: refusal,
                    details: ["causes": [["reason": "DisruptionBudget", "message": .string(reason)]]])
    }
}
