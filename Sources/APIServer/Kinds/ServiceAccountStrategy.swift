/// ServiceAccounts: plain objects, with the `token` subresource (TokenRequest) when the
/// server signs tokens.
struct ServiceAccountStrategy: ResourceStrategy {
    let tokens: ServiceAccountTokenAuthenticator?

    var returnsDeletedObject: Bool { true }

    func subresource(_ name: String) -> (any SubresourceHandler)? {
        name == "token" ? tokens.map { TokenSubresource(tokens: $0) } : nil
    }
}
