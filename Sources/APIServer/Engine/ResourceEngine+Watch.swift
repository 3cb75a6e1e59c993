extension ResourceEngine {
    /// WATCH: a stream of `{"type": ..., "object": ...}` lines, one per change, flushed as it
    /// happens. Without a resourceVersion (or with "0") the current objects come first as
    /// ADDED; `sendInitialEvents=true` ends them with the initial-events-end bookmark; from a
    /// resourceVersion the changes after it. Selectors apply to events: an object that stops
    /// matching is reported DELETED, one that starts matching ADDED. A compacted
    /// resourceVersion gets an ERROR event with a 410 `Status`.
    func watch(_ request: ResourceRequest) async throws -> HTTPResponse {
        let (labels, fields) = try selectors(request)
        let prefix = listPrefix(request, fields: fields)
        let rv = try Self.resourceVersion(request.parameter("resourceVersion"))
        let sendInitialParameter = request.parameter("sendInitialEvents")
        let sendInitialEvents = sendInitialParameter == "true"
        let bookmarks = request.parameter("allowWatchBookmarks") == "true"
        if sendInitialParameter != nil, request.parameter("resourceVersionMatch") != "NotOlderThan" {
            throw StatusError.invalid(kind: "ListOptions", group: "meta.k8s.io", name: "", causes: [
                .init(field: "resourceVersionMatch", type: "FieldValueForbidden",
                      message: "Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan"),
            ])
        }
        if sendInitialEvents && !bookmarks {
            throw StatusError.invalid(kind: "ListOptions", group: "meta.k8s.io", name: "", causes: [
                .init(field: "allowWatchBookmarks", type: "FieldValueForbidden",
                      message: "Forbidden: sendInitialEvents requires allowWatchBookmarks=true"),
            ])
        }
        let legacyInitial = sendInitialParameter == nil && (rv == nil || rv == 0)
        let timeout: Int64
        if let text = request.parameter("timeoutSeconds"), let seconds = Int64(text), seconds > 0 {
            timeout = min(seconds, 366 * 24 * 3600)  // no sleep is longer than a year
        } else {
            timeout = Int64.random(in: 1800...3600)
        }

        var initial: [JSON] = []
        let startRevision: Int64
        if sendInitialEvents || legacyInitial {
            var listing = request
            listing.http.query["limit"] = nil
            listing.http.query["continue"] = nil
            // The resourceVersion stays: unset, the list is consistent; "0", any revision
            // will do; another, one no older than it.
            listing.http.query["resourceVersionMatch"] = nil
            let page = try await readList(listing)
            initial = try await convertedObjects(page, listing) ?? page.objects()
            startRevision = page.revision
        } else {
            if let rv {
                // Past the store's revision: 504 after 3 s (so startRevision + 1 cannot overflow).
                try await requireReached(rv, waiting: .seconds(3))
                startRevision = rv
            } else {
                startRevision = try await store.currentRevision()
            }
        }
        let initialObjects = initial

        let table = request.wantsTable ? request.strategy.table : nil
        let resource = request.resource, strategy = request.strategy
        let store = self.store
        let interval = bookmarkInterval
        let protobuf = request.format.encoding == .protobuf ? request.protobuf : nil
        let contentType = protobuf == nil ? "application/json" : KubernetesProtobuf.watchMediaType
        let headers: [(String, String)] = [("Content-Type", contentType), ("Cache-Control", "no-cache, private")]
        let format = request.format
        let shared = watchEvents, parsedObjects = watchObjects
        return HTTPResponse(status: .ok, headers: .init(headers), body: .stream { writer in
            let encoder = WatchEventEncoder(table: table, resource: resource, strategy: strategy, format: format, protobuf: protobuf,
                                            shared: shared)
            let storeWatch: StoreWatch
            do {
                if labels.isEverything && fields.isEverything {
                    storeWatch = try await store.watch(prefix: prefix, after: startRevision)
                } else {
                    // The store may leave out what the selectors refuse before this task is woken.
                    storeWatch = try await store.watch(prefix: prefix, after: startRevision) { event in
                        do {
                            return try Self.watchChange(event, labels, fields, strategy: strategy, parsed: parsedObjects) != nil
                        } catch {
                            return true  // the reader's own check reports it
                        }
                    }
                }
            } catch ObjectStoreError.compacted(let compacted, _) {
                let status = StatusError.expired("too old resource version: \(startRevision) (\(compacted))").status
                try await writer.write(encoder.line("ERROR", status, raw: true))
                return
            }
            defer { store.cancelWatch(storeWatch.id) }
            for object in initialObjects { try await writer.write(encoder.line("ADDED", object)) }
            if sendInitialEvents {
                try await writer.write(encoder.bookmark(startRevision, initialEventsEnd: true))
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for try await message in storeWatch.stream {
                        switch message {
                        case .events(let events):
                            let changes = try events.compactMap { try Self.watchChange($0, labels, fields, strategy: strategy, parsed: parsedObjects) }
                            var out: [UInt8] = []
                            if let conversion = strategy.conversion, !changes.isEmpty {
                                // One conversion call per delivery; one that fails ends the watch
                                // with its error, as on kube-apiserver.
                                do {
                                    let objects = try await conversion.served(try changes.map { try $0.1.decoded() })
                                    for (change, object) in zip(changes, objects) { out.append(contentsOf: encoder.line(change.0, object)) }
                                } catch {
                                    out.append(contentsOf: encoder.line("ERROR", Self.translate(error).status, raw: true))
                                    try await writer.write(out)
                                    return
                                }
                            } else {
                                for (type, entry) in changes {
                                    // A lone change's line is written as it is (its storage shared
                                    // with the other watchers'), not copied.
                                    let line = try encoder.line(type, entry)
                                    if out.isEmpty { out = line } else { out.append(contentsOf: line) }
                                }
                            }
                            if !out.isEmpty { try await writer.write(out) }
                        case .progress(let revision):
                            if bookmarks { try await writer.write(encoder.bookmark(revision, initialEventsEnd: false)) }
                        }
                    }
                }
                if bookmarks {
                    group.addTask {
                        while true {
                            try await Task.sleep(for: interval)
                            store.requestProgress(storeWatch.id)
                        }
                    }
                }
                group.addTask { try await Task.sleep(for: .seconds(timeout)) }
                defer { group.cancelAll() }
                try await group.next()
            }
        })
    }

    /// The watch event a change makes for a client with these selectors, if any: its type,
    /// and the object it carries as stored (with the change's revision). Without selectors
    /// nothing is parsed; with them, each object once for every watcher (`parsed`).
    static func watchChange(_ event: StoreEvent, _ labels: LabelSelector, _ fields: FieldSelector,
                            strategy: any ResourceStrategy, parsed: RecentValues<StoredObjectKey, JSON>) throws -> (String, StoredEntry)? {
        let filtering = !labels.isEverything || !fields.isEverything
        func decoded(_ entry: StoredEntry) throws -> JSON {
            try parsed.value(StoredObjectKey(storeKey: entry.key, revision: entry.modRevision)) { try entry.decoded() }
        }
        switch event.kind {
        case .delete:
            guard let previous = event.previous else { return nil }
            // A deletion shows the last state, at the deletion's revision.
            let shown = StoredEntry(key: event.key, modRevision: event.revision, value: previous.value)
            if filtering, !matches(try decoded(shown), labels, fields, strategy: strategy) { return nil }
            return ("DELETED", shown)
        case .put:
            let new = event.entry
            let existed = !event.isCreate && event.previous != nil
            guard filtering else { return (existed ? "MODIFIED" : "ADDED", new) }
            let newMatches = matches(try decoded(new), labels, fields, strategy: strategy)
            guard existed, let previous = event.previous else { return newMatches ? ("ADDED", new) : nil }
            let oldMatches = matches(try decoded(previous), labels, fields, strategy: strategy)
            switch (oldMatches, newMatches) {
            case (true, true): return ("MODIFIED", new)
            case (false, true): return ("ADDED", new)
            case (true, false): return ("DELETED", new)
            case (false, false): return nil
            }
        }
    }
}

/// Writes watch events as JSON lines or as length-prefixed protobuf `WatchEvent` frames;
/// objects as one-row Tables or as their metadata alone when the client asked for that.
struct WatchEventEncoder: Sendable {
    let table: TablePrinter?
    let resource: ResourceDescriptor
    let strategy: any ResourceStrategy
    let format: ResponseFormat
    /// Set when events are written in protobuf.
    let protobuf: KubernetesProtobuf?
    /// Lines other watchers of the same change have encoded.
    let shared: RecentValues<WatchLineKey, [UInt8]>?
    /// What, besides the change, makes this watch's lines the same bytes as another's: the
    /// resource's version and plural, the encoding and the target form.
    let form: String

    init(table: TablePrinter?, resource: ResourceDescriptor, strategy: any ResourceStrategy, format: ResponseFormat = .json,
         protobuf: KubernetesProtobuf? = nil, shared: RecentValues<WatchLineKey, [UInt8]>? = nil) {
        self.table = table
        self.resource = resource
        self.strategy = strategy
        self.format = format
        self.protobuf = protobuf
        self.shared = shared
        form = "\(resource.groupVersion)/\(resource.plural) \(format.encoding) \(format.target) \(format.targetVersion) \(table != nil)"
    }

    /// The line for a change, made once for every watcher that writes it in the same form:
    /// the stored bytes spliced into the event's JSON when they are what the client sees
    /// (JSON, the whole object, a resource served as stored); otherwise parsed and encoded.
    func line(_ type: String, _ entry: StoredEntry) throws -> [UInt8] {
        let make = {
            if let spliced = self.splicedLine(type, entry) { return spliced }
            return self.line(type, try entry.decoded())
        }
        guard let shared else { return try make() }
        return try shared.value(WatchLineKey(revision: entry.modRevision, storeKey: entry.key, type: type, form: form), make: make)
    }

    private func splicedLine(_ type: String, _ entry: StoredEntry) -> [UInt8]? {
        guard table == nil, format.target == .object, protobuf == nil, resource.storedAsServed,
              let object = entry.bytesWithResourceVersion() else { return nil }
        var out = Array(#"{"type":"#.utf8)
        out.reserveCapacity(object.count + 32)
        JSON.string(type).write(into: &out)
        out.append(contentsOf: #","object":"#.utf8)
        out.append(contentsOf: object)
        out.append(contentsOf: "}\n".utf8)
        return out
    }

    func line(_ type: String, _ object: JSON, raw: Bool = false) -> [UInt8] {
        var payload = object
        if !raw { strategy.present(&payload) }
        if let table, !raw {
            payload = table.table([payload], resourceVersion: object[path: ["metadata", "resourceVersion"]]?.stringValue ?? "",
                                  includeObject: "Metadata")
        }
        if format.target == .partialObjectMetadata, type != "ERROR" {
            payload = ResourceEngine.partialObjectMetadata(payload, apiVersion: format.metaAPIVersion)
        }
        if let protobuf, let frame = protobuf.watchFrame(type: type, object: payload) { return frame }
        var out = JSON.object(["type": .string(type), "object": payload]).serialized()
        out.append(UInt8(ascii: "\n"))
        return out
    }

    func bookmark(_ revision: Int64, initialEventsEnd: Bool) -> [UInt8] {
        var metadata: JSON = ["resourceVersion": .string(String(revision))]
        if initialEventsEnd { metadata["annotations"] = ["k8s.io/initial-events-end": "true"] }
        return line("BOOKMARK", ["kind": .string(resource.kind), "apiVersion": .string(resource.groupVersion), "metadata": metadata],
                    raw: true)
    }
}
