import EtcdAPI
import GRPCCore
import KineLayer

/// The etcd `Cluster` service: the member list (this endpoint alone, on one node).
struct ClusterService: Etcdserverpb_Cluster.SimpleServiceProtocol {
    let store: KineStore
    let identity: EtcdIdentity

    func memberList(request: Etcdserverpb_MemberListRequest, context: ServerContext) async throws -> Etcdserverpb_MemberListResponse {
        var member = Etcdserverpb_Member()
        member.id = identity.memberID
        member.name = identity.name
        member.clientUrls = [identity.clientURL]
        var response = Etcdserverpb_MemberListResponse()
        response.header = identity.header(store.watchRevision)
        response.members = [member]
        return response
    }
}
