/// A kind that is never stored: a create is a question (a review) answered at once, with the
/// object sent and its `status` filled in.
protocol ReviewStrategy: ResourceStrategy {
    /// The status of the review, or an error for a question that cannot be asked.
    func status(of object: JSON, _ request: ResourceRequest) async throws -> JSON
}

extension ReviewStrategy {
    func answerCreate(_ object: JSON, _ request: ResourceRequest, engine: ResourceEngine) async throws -> HTTPResponse? {
        var answer = object
        answer["status"] = try await status(of: object, request)
        return .json(.created, answer)
    }
}

/// authentication.k8s.io SelfSubjectReviews: who the caller is.
struct SelfSubjectReviewStrategy: ReviewStrategy {
    func status(of object: JSON, _ request: ResourceRequest) async throws -> JSON { ["userInfo": request.user.json] }
}
