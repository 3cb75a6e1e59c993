/// PersistentVolumes and claims start Pending (a volume also records when its phase changed);
/// the status is the volume controllers'.
struct PersistentVolumeStrategy: ResourceStrategy {
    let resource: ResourceDescriptor

    func prepareForCreate(_ object: inout JSON) {
        object["status"] = resource.kind == "PersistentVolume"
            ? ["phase": "Pending", "lastPhaseTransitionTime": .string(ResourceEngine.now())]
            : ["phase": "Pending"]
    }

    func prepareForUpdate(_ object: inout JSON, old: JSON) { object["status"] = old["status"] }

    var returnsDeletedObject: Bool { true }
}
