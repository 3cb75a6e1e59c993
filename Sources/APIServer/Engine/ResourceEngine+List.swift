extension ResourceEngine {
    /// The objects a list reads: selected, paged, at one revision.
    struct ListPage {
        /// The selected objects in key order, as stored.
        var entries: [StoredEntry]
        /// The objects, parsed, as the resource presents them.
        let strategy: any ResourceStrategy
        func objects() throws -> [JSON] {
            try entries.map { entry in
                var object = try entry.decoded()
                strategy.present(&object)
                return object
            }
        }
        var revision: Int64
        var continueToken: String?
        var remaining: Int64?
    }

    /// LIST: label and field selectors, `limit`/`continue` paging at one revision,
    /// `resourceVersion` + `resourceVersionMatch`, across all namespaces when none is given.
    func list(_ request: ResourceRequest) async throws -> HTTPResponse {
        let page = try await readList(request)
        let converted = try await convertedObjects(page, request)
        if request.wantsTable {
            let table = request.strategy.table.table(
                try converted ?? page.objects(), resourceVersion: String(page.revision), continueToken: page.continueToken,
                remaining: page.remaining, includeObject: request.parameter("includeObject") ?? "Metadata")
            return .json(.ok, table)
        }
        var metadata: JSON = ["resourceVersion": .string(String(page.revision))]
        if let token = page.continueToken { metadata["continue"] = .string(token) }
        if let remaining = page.remaining, remaining > 0 { metadata["remainingItemCount"] = .int(remaining) }
        var (apiVersion, kind) = (request.resource.groupVersion, request.resource.listKind)
        var items: [JSON]? = nil
        if request.format.target == .partialObjectMetadataList {
            (apiVersion, kind) = (request.format.metaAPIVersion, "PartialObjectMetadataList")
            items = try (converted ?? page.objects()).map { Self.partialObjectMetadata($0, apiVersion: apiVersion) }
        }
        // Protobuf lists are written item by item, without the list's JSON.
        if request.format.encoding == .protobuf, let protobuf = request.protobuf,
           let encoded = protobuf.encodeList(apiVersion: apiVersion, kind: kind, metadata: metadata, items: try items ?? converted ?? page.objects()) {
            return HTTPResponse(status: .ok, headers: ["Content-Type": KubernetesProtobuf.mediaType], body: .bytes(encoded))
        }
        if let items {
            return .json(.ok, ["apiVersion": .string(apiVersion), "kind": .string(kind), "metadata": metadata, "items": .array(items)])
        }
        // The list's envelope is written around the items' stored bytes (each with its
        // resourceVersion spliced in), without parsing them.
        var out = Array(#"{"apiVersion":"#.utf8)
        JSON.string(request.resource.groupVersion).write(into: &out)
        out.append(contentsOf: #","items":["#.utf8)
        for (index, entry) in page.entries.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            if let converted {
                converted[index].write(into: &out)
            } else if request.resource.storedAsServed, let bytes = entry.bytesWithResourceVersion() {
                out.append(contentsOf: bytes)
            } else {
                var object = try entry.decoded()
                request.strategy.present(&object)
                object.write(into: &out)
            }
        }
        out.append(contentsOf: #"],"kind":"#.utf8)
        JSON.string(request.resource.listKind).write(into: &out)
        out.append(contentsOf: #","metadata":"#.utf8)
        metadata.write(into: &out)
        out.append(UInt8(ascii: "}"))
        return HTTPResponse(status: .ok, headers: ["Content-Type": "application/json"], body: .bytes(out))
    }

    /// The selectors of a list or watch request.
    func selectors(_ request: ResourceRequest) throws -> (LabelSelector, FieldSelector) {
        let labels = try request.parameter("labelSelector").map { try LabelSelector(parsing: $0) } ?? .everything
        let supported = Set(["metadata.name", "metadata.namespace"] + request.strategy.selectableFields)
        let fields = try request.parameter("fieldSelector").map { try FieldSelector(parsing: $0, supported: supported) } ?? .everything
        return (labels, fields)
    }

    /// The key prefix a list or watch covers.
    func listPrefix(_ request: ResourceRequest, fields: FieldSelector) -> String {
        let resource = request.resource
        if resource.namespaced, let namespace = request.info.namespace ?? fields.equalValue(of: "metadata.namespace") {
            return resource.namespacePrefix(namespace)
        }
        return resource.keyPrefix
    }

    func readList(_ request: ResourceRequest) async throws -> ListPage {
        let (labels, fields) = try selectors(request)
        let prefix = listPrefix(request, fields: fields)
        let limit = max(0, Int(request.parameter("limit") ?? "") ?? 0)
        var revision: Int64 = 0
        /// Set when a revision no older than it will do (the first page may come from a cache).
        var minimum: Int64? = nil
        var start: String? = nil
        /// What the previous page's token said was left after it.
        var leftBefore: Int64? = nil
        if let token = request.parameter("continue"), !token.isEmpty {
            if let rv = request.parameter("resourceVersion"), !rv.isEmpty {
                throw StatusError.badRequest("specifying resource version is not allowed when using continue")
            }
            let decoded = try ContinueToken(decoding: token)
            // -1: an inconsistent continuation, read at the newest revision.
            revision = max(0, decoded.revision)
            start = prefix + decoded.start
            if revision > 0 { leftBefore = decoded.remaining }
            let compacted = try await store.compactRevision()
            if revision > 0, revision < compacted {
                var expired = StatusError.expired("The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.")
                expired.metadata = ["continue": .string(ContinueToken(revision: -1, start: decoded.start).encoded)]
                throw expired
            }
        } else if let rv = try Self.resourceVersion(request.parameter("resourceVersion")) {
            let match = request.parameter("resourceVersionMatch") ?? ""
            switch match {
            case "Exact" where rv > 0:
                let compacted = try await store.compactRevision()
                if rv < compacted { throw StatusError.expired("The resourceVersion for the provided list is too old.") }
                try await requireReached(rv)
                revision = rv
            case "NotOlderThan", "":
                // "0": any revision will do; another: no older than it. The watch cache may answer.
                if rv > 0 { try await requireReached(rv) }
                minimum = rv
            case "Exact":
                throw StatusError.badRequest("resourceVersionMatch \"Exact\" is forbidden for resourceVersion \"0\"")
            default:
                throw StatusError.badRequest("resourceVersionMatch: Unsupported value: \"\(match)\": supported values: \"Exact\", \"NotOlderThan\"")
            }
        } else if let match = request.parameter("resourceVersionMatch"), !match.isEmpty {
            throw StatusError.badRequest("resourceVersionMatch is forbidden unless resourceVersion is provided")
        }

        let filtering = !labels.isEverything || !fields.isEverything
        var entries: [StoredEntry] = []
        var more = false
        var lastKey: String? = nil
        var remaining: Int64? = nil
        let chunk = limit > 0 ? max(limit, filtering ? 500 : limit) : 0
        // Unfiltered pages are counted once, on the first page; later ones from the token.
        let counting = limit > 0 && !filtering && leftBefore == nil
        scan: while true {
            let floor = revision == 0 ? minimum : nil
            let page = if let floor {
                try await store.list(prefix: prefix, startKey: start, notOlderThan: floor, limit: chunk, counting: counting)
            } else {
                try await store.list(prefix: prefix, startKey: start, revision: revision, limit: chunk, counting: counting)
            }
            if revision == 0 { revision = page.revision }
            for entry in page.entries {
                if limit > 0 && entries.count == limit {
                    more = true
                    break scan
                }
                lastKey = entry.key
                if try !filtering || Self.matches(entry.decoded(), labels, fields, strategy: request.strategy) {
                    entries.append(entry)
                }
            }
            guard page.more, let last = page.entries.last else { break }
            if limit > 0 && entries.count == limit {
                more = true
                if !filtering { remaining = page.remaining ?? leftBefore.map { max(0, $0 - Int64(entries.count)) } }
                break
            }
            start = last.key + "\u{0}"
        }
        var token: String? = nil
        if more, let lastKey {
            token = ContinueToken(revision: revision, start: String((lastKey + "\u{0}").dropFirst(prefix.count)), remaining: remaining).encoded
        } else {
            remaining = nil
        }
        return ListPage(entries: entries, strategy: request.strategy, revision: revision, continueToken: token, remaining: remaining)
    }

    static func matches(_ object: JSON, _ labels: LabelSelector, _ fields: FieldSelector, strategy: any ResourceStrategy) -> Bool {
        if !fields.isEverything && !fields.matches(object, value: { strategy.fieldValue($0, of: object) }) { return false }
        if labels.isEverything { return true }
        let map = (object[path: ["metadata", "labels"]]?.objectValue ?? [:]).compactMapValues(\.stringValue)
        return labels.matches(map)
    }
}
