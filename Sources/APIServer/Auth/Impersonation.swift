import NIOHTTP1

/// Impersonation (`kubectl --as`, `--as-group`, `--as-uid`): a request carrying
/// `Impersonate-User`, `Impersonate-Group`, `Impersonate-Uid` or `Impersonate-Extra-KEY`
/// headers acts as the user they name, once the authorizer allows the authenticated user
/// the `impersonate` verb on each (`users` or `serviceaccounts`, `groups`, `uids`,
/// `userextras/KEY` in the authentication.k8s.io group for the last two).
struct Impersonation: Sendable {
    let authorizer: any Authorizer

    /// The user the request acts as.
    func effectiveUser(_ request: HTTPRequest, authenticated user: UserInfo) async throws -> UserInfo {
        let name = request.headers.first(name: "Impersonate-User")
        let groups = request.headers["Impersonate-Group"]
        let uid = request.headers.first(name: "Impersonate-Uid")
        var extra: [String: [String]] = [:]
        for (header, value) in request.headers where header.lowercased().hasPrefix("impersonate-extra-") {
            let key = HTTPRequest.percentDecode(String(header.dropFirst("impersonate-extra-".count)).lowercased(), plusIsSpace: false)
            extra[key, default: []].append(value)
        }
        guard name != nil || !groups.isEmpty || uid != nil || !extra.isEmpty else { return user }
        guard let name, !name.isEmpty else {
            throw StatusError(code: 400, reason: "BadRequest",
                              message: "requested impersonation of groups, a uid or extra fields without impersonating a user (Impersonate-User)")
        }
        let account = Self.serviceAccount(name)
        if let account {
            try await check(user, resource: "serviceaccounts", group: "", namespace: account.namespace, name: account.name)
        } else {
            try await check(user, resource: "users", group: "", name: name)
        }
        for group in groups { try await check(user, resource: "groups", group: "", name: group) }
        if let uid { try await check(user, resource: "uids", group: "authentication.k8s.io", name: uid) }
        for (key, values) in extra {
            for value in values { try await check(user, resource: "userextras", subresource: key, group: "authentication.k8s.io", name: value) }
        }
        var finalGroups = groups
        if let account {
            for g in ["system:serviceaccounts", "system:serviceaccounts:\(account.namespace)"] where !finalGroups.contains(g) { finalGroups.append(g) }
        }
        let always = name == "system:anonymous" ? "system:unauthenticated" : "system:authenticated"
        if !finalGroups.contains(always) { finalGroups.append(always) }
        return UserInfo(name: name, uid: uid ?? "", groups: finalGroups, extra: extra)
    }

    private func check(_ user: UserInfo, resource: String, subresource: String = "", group: String,
                       namespace: String = "", name: String) async throws {
        var attributes = AuthorizationAttributes(user: user, verb: "impersonate", isResourceRequest: true)
        attributes.group = group
        attributes.resource = resource
        attributes.subresource = subresource
        attributes.namespace = namespace
        attributes.name = name
        guard !(await authorizer.authorize(attributes)).allowed else { return }
        let what = subresource.isEmpty ? resource : "\(resource)/\(subresource)"
        let scope = namespace.isEmpty ? "at the cluster scope" : "in the namespace \"\(namespace)\""
        throw StatusError(code: 403, reason: "Forbidden",
                          message: "\(what) \"\(name)\" is forbidden: User \"\(user.name)\" cannot impersonate resource \"\(what)\" in API group \"\(group)\" \(scope)",
                          details: ["name": .string(name), "group": .string(group), "kind": .string(resource)])
    }

    /// The namespace and name of `system:serviceaccount:NAMESPACE:NAME`.
    static func serviceAccount(_ user: String) -> (namespace: String, name: String)? {
        let parts = user.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "system", parts[1] == "serviceaccount", !parts[2].isEmpty, !parts[3].isEmpty else { return nil }
        return (String(parts[2]), String(parts[3]))
    }
}
