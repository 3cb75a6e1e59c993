/// authentication.k8s.io TokenReviews: whether a token is valid, and whose it is. A service
/// account token is checked against the audiences the review names (the API's own when it
/// names none); other tokens by the server's authenticators.
struct TokenReviewStrategy: ReviewStrategy {
    let authenticator: any Authenticator
    let serviceAccountTokens: ServiceAccountTokenAuthenticator?

    func status(of object: JSON, _ request: ResourceRequest) async throws -> JSON {
        let spec = object["spec"] ?? .emptyObject
        guard let token = spec["token"]?.stringValue, !token.isEmpty else {
            throw StatusError.invalid(kind: "TokenReview", group: "authentication.k8s.io", name: "", causes: [
                .init(field: "spec.token", type: "FieldValueRequired", message: "Required value"),
            ])
        }
        let wanted = (spec["audiences"]?.arrayValue ?? []).compactMap(\.stringValue)
        let audiences = wanted.isEmpty ? ServiceAccountTokens.apiAudiences : wanted
        switch try await serviceAccountTokens?.review(token, audiences: audiences) {
        case .success(let user)?:
            return ["authenticated": true, "user": user.json, "audiences": .array(audiences.map { .string($0) })]
        case .failure(let error)?:
            return ["authenticated": false, "user": .emptyObject, "error": .string("\(error)")]
        case nil:
            let probe = HTTPRequest(method: .GET, uri: "/", headers: ["Authorization": "Bearer \(token)"])
            switch await authenticator.authenticate(probe) {
            case .authenticated(let user):
                return ["authenticated": true, "user": user.json, "audiences": spec["audiences"] ?? .array([])]
            case .unavailable(let why):
                throw StatusError.serviceUnavailable("the token could not be checked now: \(why)")
            case .rejected, .noCredential:
                return ["authenticated": false, "user": .emptyObject, "error": "invalid bearer token"]
            }
        }
    }
}
