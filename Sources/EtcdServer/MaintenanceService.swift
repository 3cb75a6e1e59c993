import EtcdAPI
import GRPCCore
import KineLayer

/// The etcd `Maintenance` service: status, defragmentation, alarms, hashes and snapshots.
struct MaintenanceService: Etcdserverpb_Maintenance.SimpleServiceProtocol {
    let store: KineStore
    let identity: EtcdIdentity

    /// The etcd version reported: kube-apiserver enables watch progress requests from 3.5.13 on.
    static let reportedVersion = "3.5.21"

    func status(request: Etcdserverpb_StatusRequest, context: ServerContext) async throws -> Etcdserverpb_StatusResponse {
        try await EtcdError.mapping {
            let revision = try await store.currentRevision()
            var response = Etcdserverpb_StatusResponse()
            response.header = identity.header(revision)
            response.version = Self.reportedVersion
            response.dbSize = try await store.database.sizeInBytes()
            response.dbSizeInUse = try await store.database.usedBytes()
            response.leader = identity.memberID
            response.raftIndex = UInt64(max(0, revision))
            response.raftAppliedIndex = UInt64(max(0, revision))
            response.raftTerm = 1
            return response
        }
    }

    /// Defragment: gives free pages back to the file system.
    func defragment(request: Etcdserverpb_DefragmentRequest, context: ServerContext) async throws -> Etcdserverpb_DefragmentResponse {
        try await EtcdError.mapping {
            try await store.database.reclaimSpace()
            var response = Etcdserverpb_DefragmentResponse()
            response.header = identity.header(try await store.currentRevision())
            return response
        }
    }

    /// Alarms: Skiff raises none (space is reclaimed, not capped), so there is nothing to
    /// list, activate or clear.
    func alarm(request: Etcdserverpb_AlarmRequest, context: ServerContext) async throws -> Etcdserverpb_AlarmResponse {
        var response = Etcdserverpb_AlarmResponse()
        response.header = identity.header(store.watchRevision)
        return response
    }

    /// Hash: a CRC-32C of every retained change.
    func hash(request: Etcdserverpb_HashRequest, context: ServerContext) async throws -> Etcdserverpb_HashResponse {
        try await EtcdError.mapping {
            let (hash, export) = try await LogHash.compute(store, upTo: 0)
            var response = Etcdserverpb_HashResponse()
            response.header = identity.header(export.currentRevision)
            response.hash = hash
            return response
        }
    }

    /// HashKV: a CRC-32C of the changes from the compact revision up to `revision` (0 = now).
    func hashKV(request: Etcdserverpb_HashKVRequest, context: ServerContext) async throws -> Etcdserverpb_HashKVResponse {
        try await EtcdError.mapping {
            let current = try await store.currentRevision()
            if request.revision > current { throw EtcdError.futureRevision }
            let (hash, export) = try await LogHash.compute(store, upTo: request.revision)
            if request.revision > 0 && request.revision < export.compactRevision { throw EtcdError.compacted }
            var response = Etcdserverpb_HashKVResponse()
            response.header = identity.header(export.currentRevision)
            response.hash = hash
            response.compactRevision = export.compactRevision
            response.hashRevision = request.revision > 0 ? request.revision : export.currentRevision
            return response
        }
    }

    /// Snapshot: the log as an etcd (bbolt) database file, streamed in chunks, followed by
    /// its SHA-256 as etcd appends it.
    func snapshot(request: Etcdserverpb_SnapshotRequest, response: RPCWriter<Etcdserverpb_SnapshotResponse>,
                  context: ServerContext) async throws {
        let image = try await EtcdError.mapping { try await SnapshotImage.make(store) }
        var sent = 0
        let chunkSize = 64 * 1024
        while sent < image.bytes.count {
            let end = min(sent + chunkSize, image.bytes.count)
            var r = Etcdserverpb_SnapshotResponse()
            r.header = identity.header(image.revision)
            r.blob = .init(image.bytes[sent..<end])
            r.remainingBytes = UInt64(image.bytes.count - end)
            if sent == 0 { r.version = Self.reportedVersion }
            try await response.write(r)
            sent = end
        }
    }
}
