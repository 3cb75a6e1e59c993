/// ValidatingAdmissionWebhook: calls every matching validating webhook at once; the first
/// refusal (in the webhooks' order) refuses the request. Warnings and audit annotations of
/// all of them are kept.
public struct ValidatingWebhookAdmission: AdmissionPlugin {
    let dispatcher: WebhookDispatcher

    init(dispatcher: WebhookDispatcher) {
        self.dispatcher = dispatcher
    }

    public func admit(_ object: inout JSON, _ request: AdmissionRequest) async throws -> AdmissionOutcome {
        try await validate(object, request)
    }

    public func admitDelete(_ request: AdmissionRequest) async throws -> AdmissionOutcome {
        try await validate(nil, request)
    }

    private func validate(_ object: JSON?, _ request: AdmissionRequest) async throws -> AdmissionOutcome {
        guard !WebhookMatcher.exempt(request) else { return .none }
        let hooks = dispatcher.index.current.validating
        guard !hooks.isEmpty else { return .none }
        let invocations = try await dispatcher.invocations(hooks, request, object: object)
        guard !invocations.isEmpty else { return .none }
        let dispatcher = self.dispatcher
        let results = await withTaskGroup(of: (Int, Result<AdmissionOutcome, any Error>).self) { group in
            for (position, invocation) in invocations {
                group.addTask {
                    var outcome = AdmissionOutcome()
                    do {
                        let key = "failed-open.validating.webhook.admission.k8s.io/round_0_index_\(position)"
                        if let response = try await dispatcher.call(invocation, .validating, request, object: object,
                                                                    failedOpenKey: key, &outcome), !response.allowed {
                            throw AdmissionReview.denial(invocation.hook.name, status: response.status)
                        }
                        return (position, .success(outcome))
                    } catch {
                        return (position, .failure(error))
                    }
                }
            }
            var results: [(Int, Result<AdmissionOutcome, any Error>)] = []
            for await result in group { results.append(result) }
            return results.sorted { $0.0 < $1.0 }
        }
        var outcome = AdmissionOutcome()
        for (_, result) in results { outcome.add(try result.get()) }
        return outcome
    }
}
