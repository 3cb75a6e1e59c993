/// Why a webhook could not be called or gave no usable answer. With `failurePolicy: Fail`
/// the request fails with kube-apiserver's words: `Internal error occurred: failed calling
/// webhook "NAME": failed to call webhook: …`; with `Ignore` the webhook is skipped.
enum WebhookCallError: Error, Sendable, CustomStringConvertible {
    /// The configuration names no destination that can be called.
    case configuration(String)
    /// The call did not reach the webhook or got no complete answer (the dial, TLS, the
    /// timeout, an HTTP error).
    case call(String)
    /// The answer was not a valid AdmissionReview for this request.
    case invalidResponse(String)

    var description: String {
        switch self {
        case .configuration(let why): "failed to call webhook: \(why)"
        case .call(let why): "failed to call webhook: \(why)"
        case .invalidResponse(let why): "received invalid webhook response: \(why)"
        }
    }

    /// The status code the webhook metrics record for the failure.
    var code: Int {
        switch self {
        case .configuration: 500
        case .call, .invalidResponse: 503
        }
    }
}
