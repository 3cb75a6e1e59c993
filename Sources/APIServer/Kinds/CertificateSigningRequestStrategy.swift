/// CertificateSigningRequests: selectable by signer; `approval` changes the conditions, and
/// metadata as a status write does, while the rest of the status stays.
struct CertificateSigningRequestStrategy: ResourceStrategy {
    let resource: ResourceDescriptor

    func prepareForCreate(_ object: inout JSON) { DefaultStrategy(resource).prepareForCreate(&object) }
    func prepareForUpdate(_ object: inout JSON, old: JSON) { DefaultStrategy(resource).prepareForUpdate(&object, old: old) }
    var selectableFields: [String] { ["spec.signerName"] }

    func subresourceUpdate(_ subresource: String, _ object: JSON, old: JSON) -> JSON? {
        switch subresource {
        case "status": return statusUpdate(object, old: old)
        case "approval":
            var approved = statusUpdate(object, old: old)
            approved["status"] = old["status"]
            approved[path: ["status", "conditions"]] = object[path: ["status", "conditions"]]
            return approved
        default: return nil
        }
    }
}
