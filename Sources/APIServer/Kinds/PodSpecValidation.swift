/// The checks kube-apiserver makes on a pod spec wherever one is written (a Pod, and the
/// templates of workloads, Jobs and CronJobs) that the engine needs beyond the schema:
/// container resource quantities must be quantities, and not negative.
enum PodSpecValidation {
    static let quantityPattern = "^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$"

    /// The causes for the pod spec at `path` (dotted, e.g. `spec.template.spec`).
    static func causes(_ spec: JSON?, path: String) -> [StatusError.Cause] {
        guard let spec else { return [] }
        var causes: [StatusError.Cause] = []
        for list in ["initContainers", "containers", "ephemeralContainers"] {
            for (index, container) in (spec[list]?.arrayValue ?? []).enumerated() {
                for kind in ["requests", "limits"] {
                    let resources = container[path: ["resources", kind]]?.objectValue ?? [:]
                    for name in resources.keys.sorted() {
                        let field = "\(path).\(list)[\(index)].resources.\(kind)[\(name)]"
                        causes += quantityCauses(resources[name], field: field)
                    }
                }
                // A request may not exceed its limit.
                let requests = container[path: ["resources", "requests"]]?.objectValue ?? [:]
                let limits = container[path: ["resources", "limits"]]?.objectValue ?? [:]
                for name in requests.keys.sorted() {
                    guard let request = Quantity(json: requests[name]), let limitText = limits[name], let limit = Quantity(json: limitText),
                          limit < request else { continue }
                    let shown = requests[name]?.stringValue ?? "\(request)"
                    causes.append(.init(field: "\(path).\(list)[\(index)].resources.requests", type: "FieldValueInvalid",
                                        message: "Invalid value: \"\(shown)\": must be less than or equal to \(name) limit of \(limitText.stringValue ?? "\(limit)")"))
                }
            }
        }
        return causes
    }

    private static func quantityCauses(_ value: JSON?, field: String) -> [StatusError.Cause] {
        let text = value?.stringValue ?? value.map { String(decoding: $0.serialized(), as: UTF8.self) } ?? ""
        guard let quantity = Quantity(json: value), text.wholeMatch(of: /[+-]?[0-9.]+[eEinumkKMGTP]*[-+]?[0-9]*/) != nil else {
            return [.init(field: field, message: "Invalid value: \"\(text)\": quantities must match the regular expression '\(quantityPattern)'")]
        }
        if quantity < .zero {
            return [.init(field: field, message: "Invalid value: \"\(text)\": must be greater than or equal to 0")]
        }
        return []
    }
}
