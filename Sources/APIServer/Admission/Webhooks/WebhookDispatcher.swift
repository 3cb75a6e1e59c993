import Foundation

/// What both webhook plugins share: finding the webhooks a request calls, presenting the
/// request's objects at the version each webhook matched, calling it, and turning failures
/// into the errors (or, under `failurePolicy: Ignore`, the skips) kube-apiserver gives.
struct WebhookDispatcher: Sendable {
    enum Kind: String, Sendable {
        case mutating = "admit"
        case validating
    }

    let index: WebhookIndex
    let matcher: WebhookMatcher
    let caller: WebhookCaller
    let metrics: WebhookMetrics

    /// One matched webhook and how it sees the request.
    struct Invocation: Sendable {
        let hook: AdmissionWebhook
        let subject: AdmissionReview.Subject
    }

    /// The webhooks among `hooks` the request calls, in order, with their positions.
    func invocations(_ hooks: [AdmissionWebhook], _ request: AdmissionRequest, object: JSON?) async throws -> [(Int, Invocation)] {
        var scope = WebhookMatcher.Scope()
        var found: [(Int, Invocation)] = []
        for (position, hook) in hooks.enumerated() {
            if let invocation = try await invocation(hook, request, object: object, &scope) { found.append((position, invocation)) }
        }
        return found
    }

    /// How `hook` sees the request, or nil when it is not called.
    func invocation(_ hook: AdmissionWebhook, _ request: AdmissionRequest, object: JSON?,
                    _ scope: inout WebhookMatcher.Scope) async throws -> Invocation? {
        try await matcher.subject(for: hook, request, object: object, &scope).map { Invocation(hook: hook, subject: $0) }
    }

    /// An object as the webhook sees it: a Scale for the scale subresource, and at the
    /// webhook's version.
    static func view(_ object: JSON?, _ request: AdmissionRequest, _ subject: AdmissionReview.Subject) -> JSON? {
        guard var object, case .object = object else { return nil }
        if request.subresource == "scale" {
            object = ScaleSubresource.scale(of: object, request.resource)
        } else {
            // A custom resource is held at its storage version until written: relabelled is
            // how conversion None serves it, and how an equivalent version is sent.
            let seen = subject.group.isEmpty ? subject.version : subject.group + "/" + subject.version
            if object["apiVersion"]?.stringValue != seen, request.resource.custom != nil || subject.version != request.resource.version {
                object["apiVersion"] = .string(seen)
            }
        }
        return object
    }

    /// Calls one webhook. Answers its checked response, or nil when the call failed and the
    /// webhook fails open (recorded in `outcome`'s audit annotations under `failedOpenKey`).
    func call(_ invocation: Invocation, _ kind: Kind, _ request: AdmissionRequest, object: JSON?,
              failedOpenKey: String, _ outcome: inout AdmissionOutcome) async throws -> AdmissionReview.Response? {
        let hook = invocation.hook
        if request.dryRun && !hook.safeOnDryRun {
            throw StatusError.badRequest("admission webhook \"\(hook.name)\" does not support dry run")
        }
        let started = ContinuousClock.now
        let review = AdmissionReview(request, subject: invocation.subject, object: Self.view(object, request, invocation.subject),
                                     oldObject: Self.view(request.old, request, invocation.subject))
        let operation = request.operation.rawValue
        do {
            guard hook.acceptsV1 else { throw WebhookCallError.configuration("the webhook does not accept AdmissionReview v1") }
            let answer = try await caller.call(hook.target, review: review.body)
            let response = try review.response(from: answer, mutating: kind == .mutating)
            let seconds = (ContinuousClock.now - started).inSeconds
            if response.allowed {
                metrics.observe(hook.name, kind, operation: operation, rejected: false, code: 200, seconds: seconds)
            } else {
                let denial = AdmissionReview.denial(hook.name, status: response.status)
                metrics.observe(hook.name, kind, operation: operation, rejected: true, code: denial.code, seconds: seconds)
                metrics.rejected(hook.name, kind, operation: operation, errorType: "no_error", code: denial.code)
            }
            for warning in response.warnings { outcome.warnings.append(warning) }
            for (key, value) in response.auditAnnotations { outcome.auditAnnotations[hook.name + "/" + key] = value }
            return response
        } catch let error as WebhookCallError {
            let seconds = (ContinuousClock.now - started).inSeconds
            let failsOpen = hook.failurePolicy == .ignore
            metrics.observe(hook.name, kind, operation: operation, rejected: !failsOpen, code: error.code, seconds: seconds)
            if failsOpen {
                metrics.failedOpen(hook.name, kind)
                outcome.auditAnnotations[failedOpenKey] = hook.name
                return nil
            }
            metrics.rejected(hook.name, kind, operation: operation, errorType: "calling_webhook_error", code: error.code)
            throw StatusError.internalError("failed calling webhook \"\(hook.name)\": \(error)")
        }
    }
}
