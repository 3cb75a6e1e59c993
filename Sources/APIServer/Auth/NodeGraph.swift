/// What the pods bound to a node use: the secrets, config maps, claims and service accounts
/// a pod names and whether a pod is bound there (from the ``NodeGraphIndex`` kept in memory),
/// the volumes its claims are bound to, and the volume attachments of the node (read from the
/// store when asked: they are seldom asked about).
struct NodeGraph {
    let store: any ObjectStore
    let index: NodeGraphIndex

    /// Whether a pod bound to `node` (in `namespace`, for namespaced kinds) refers to `name`.
    func relates(node: String, _ kind: NodeAuthorizer.Related, namespace: String, name: String) async throws -> Bool {
        switch kind {
        case .attachment:
            let key = RegistryKey(group: "storage.k8s.io", resource: "volumeattachments", namespace: nil, name: name).path
            return try await store.get(key)?.object[path: ["spec", "nodeName"]]?.stringValue == node
        case .volume:
            // A volume is the node's when a claim of one of its pods is bound to it.
            for claim in index.claims(of: node) {
                let key = RegistryKey(group: "", resource: "persistentvolumeclaims", namespace: claim.namespace, name: claim.name).path
                if try await store.get(key)?.object[path: ["spec", "volumeName"]]?.stringValue == name { return true }
            }
            return false
        case .secret, .configMap, .claim, .serviceAccount, .pod:
            return index.uses(node: node, kind, namespace: namespace, name: name)
        }
    }

    /// The names of the objects of `kind` a pod refers to.
    static func references(_ pod: JSON, _ kind: NodeAuthorizer.Related) -> Set<String> {
        let spec = pod["spec"] ?? .emptyObject
        let volumes = spec["volumes"]?.arrayValue ?? []
        let containers = ["containers", "initContainers", "ephemeralContainers"].flatMap { spec[$0]?.arrayValue ?? [] }
        var names = Set<String>()
        func add(_ value: JSON?) { if let name = value?.stringValue, !name.isEmpty { names.insert(name) } }
        switch kind {
        case .secret:
            for secret in spec["imagePullSecrets"]?.arrayValue ?? [] { add(secret["name"]) }
            for volume in volumes {
                add(volume[path: ["secret", "secretName"]])
                for source in volume[path: ["projected", "sources"]]?.arrayValue ?? [] { add(source[path: ["secret", "name"]]) }
                for driver in ["csi", "flexVolume", "cephfs", "rbd", "iscsi", "scaleIO", "storageos"] {
                    add(volume[path: [driver, driver == "csi" ? "nodePublishSecretRef" : "secretRef", "name"]])
                }
                add(volume[path: ["azureFile", "secretName"]])
            }
            for container in containers {
                for env in container["env"]?.arrayValue ?? [] { add(env[path: ["valueFrom", "secretKeyRef", "name"]]) }
                for source in container["envFrom"]?.arrayValue ?? [] { add(source[path: ["secretRef", "name"]]) }
            }
        case .configMap:
            for volume in volumes {
                add(volume[path: ["configMap", "name"]])
                for source in volume[path: ["projected", "sources"]]?.arrayValue ?? [] { add(source[path: ["configMap", "name"]]) }
            }
            for container in containers {
                for env in container["env"]?.arrayValue ?? [] { add(env[path: ["valueFrom", "configMapKeyRef", "name"]]) }
                for source in container["envFrom"]?.arrayValue ?? [] { add(source[path: ["configMapRef", "name"]]) }
            }
        case .claim:
            let podName = pod[path: ["metadata", "name"]]?.stringValue ?? ""
            for volume in volumes {
                add(volume[path: ["persistentVolumeClaim", "claimName"]])
                // A generic ephemeral volume's claim is named after the pod and the volume.
                if volume["ephemeral"] != nil, let name = volume["name"]?.stringValue { names.insert(podName + "-" + name) }
            }
        case .serviceAccount:
            add(spec["serviceAccountName"])
        case .pod, .volume, .attachment:
            break
        }
        return names
    }
}
