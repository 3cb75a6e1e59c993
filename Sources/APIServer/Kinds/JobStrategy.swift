/// Jobs: the spec defaults, and the selector and pod labels that tie a job to its pods by
/// the job's uid (unless `manualSelector`).
struct JobStrategy: ResourceStrategy {
    func prepareForCreate(_ object: inout JSON) {
        object["status"] = .emptyObject
        var spec = object["spec"] ?? .emptyObject
        JobStrategy.defaultSpec(&spec)
        if spec["manualSelector"] != true, let uid = object[path: ["metadata", "uid"]]?.stringValue {
            let name = object[path: ["metadata", "name"]]?.stringValue ?? ""
            spec["selector"] = ["matchLabels": ["batch.kubernetes.io/controller-uid": .string(uid)]]
            var labels = spec[path: ["template", "metadata", "labels"]]?.objectValue ?? [:]
            labels["batch.kubernetes.io/controller-uid"] = .string(uid)
            labels["batch.kubernetes.io/job-name"] = .string(name)
            labels["controller-uid"] = .string(uid)
            labels["job-name"] = .string(name)
            spec[path: ["template", "metadata", "labels"]] = .object(labels)
        }
        object["spec"] = spec
    }

    /// The defaults of a JobSpec (also inside a CronJob's job template).
    static func defaultSpec(_ spec: inout JSON) {
        if spec["completions"] == nil && spec["parallelism"] == nil { spec["completions"] = 1 }
        if spec["parallelism"] == nil { spec["parallelism"] = 1 }
        if spec["backoffLimit"] == nil { spec["backoffLimit"] = 6 }
        if spec["completionMode"] == nil { spec["completionMode"] = "NonIndexed" }
        if spec["suspend"] == nil { spec["suspend"] = false }
        if spec["podReplacementPolicy"] == nil { spec["podReplacementPolicy"] = "TerminatingOrFailed" }
        if var template = spec["template"], template["spec"] != nil {
            var pod: JSON = ["spec": template["spec"]!]
            PodStrategy().prepareForCreate(&pod)
            var podSpec = pod["spec"]!
            for key in ["serviceAccountName", "serviceAccount", "priority", "preemptionPolicy", "enableServiceLinks"] { podSpec[key] = nil }
            template["spec"] = podSpec
            spec["template"] = template
        }
    }

    func prepareForUpdate(_ object: inout JSON, old: JSON) { object["status"] = old["status"] }
    var selectableFields: [String] { ["status.successful"] }

    func validate(_ object: JSON, old: JSON?) -> [StatusError.Cause] {
        PodSpecValidation.causes(object[path: ["spec", "template", "spec"]], path: "spec.template.spec")
    }

    func fieldValue(_ field: String, of object: JSON) -> String {
        field == "status.successful" ? String(object[path: ["status", "succeeded"]]?.intValue ?? 0) : FieldSelector.value(of: field, in: object)
    }

    var table: TablePrinter {
        TablePrinter(columns: [.name, TableColumn("Completions") { object in
            .string("\(object[path: ["status", "succeeded"]]?.intValue ?? 0)/\(object[path: ["spec", "completions"]]?.intValue ?? 1)")
        }, .age])
    }
}
