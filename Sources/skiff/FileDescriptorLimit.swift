import Glibc

/// Raises this process's open-file limit to the hard limit, as Go programs (kube-apiserver,
/// etcd) do at start: every client connection is a descriptor, and a soft limit of 1024
/// would refuse clients long before `--max-connections`.
enum FileDescriptorLimit {
    static func raise() {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
        limit.rlim_cur = limit.rlim_max
        _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }
}
