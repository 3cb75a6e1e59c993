import EtcdAPI
import GRPCCore

extension KVService {
    /// The KV calls the transport answers inline, without the server core: every etcd read
    /// and write (kube-apiserver's and etcdctl's hot path).
    var inlineMethods: [any InlineUnaryMethod] {
        typealias KV = Etcdserverpb_KV.Method
        return [
            InlineMethod(path: "/" + KV.Put.descriptor.fullyQualifiedMethod, run: put(_:reply:)),
            InlineMethod(path: "/" + KV.Range.descriptor.fullyQualifiedMethod) { try await range($0) },
            InlineMethod(path: "/" + KV.DeleteRange.descriptor.fullyQualifiedMethod, run: deleteRange(_:reply:)),
            InlineMethod(path: "/" + KV.Txn.descriptor.fullyQualifiedMethod, run: txn(_:reply:)),
        ]
    }
}
