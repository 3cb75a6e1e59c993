/// CronJobs: the spec defaults, and the job template's.
struct CronJobStrategy: ResourceStrategy {
    func validate(_ object: JSON, old: JSON?) -> [StatusError.Cause] {
        PodSpecValidation.causes(object[path: ["spec", "jobTemplate", "spec", "template", "spec"]],
                                 path: "spec.jobTemplate.spec.template.spec")
    }

    func prepareForCreate(_ object: inout JSON) {
        object["status"] = .emptyObject
        var spec = object["spec"] ?? .emptyObject
        if spec["concurrencyPolicy"] == nil { spec["concurrencyPolicy"] = "Allow" }
        if spec["suspend"] == nil { spec["suspend"] = false }
        if spec["successfulJobsHistoryLimit"] == nil { spec["successfulJobsHistoryLimit"] = 3 }
        if spec["failedJobsHistoryLimit"] == nil { spec["failedJobsHistoryLimit"] = 1 }
        if var jobSpec = spec[path: ["jobTemplate", "spec"]] {
            JobStrategy.defaultSpec(&jobSpec)
            jobSpec["completions"] = nil
            jobSpec["parallelism"] = nil
            spec[path: ["jobTemplate", "spec"]] = jobSpec
        }
        object["spec"] = spec
    }

    func prepareForUpdate(_ object: inout JSON, old: JSON) { object["status"] = old["status"] }

    var table: TablePrinter {
        TablePrinter(columns: [.name, .field("Schedule", ["spec", "schedule"]), .field("Suspend", ["spec", "suspend"], none: "False"), .age])
    }
}
