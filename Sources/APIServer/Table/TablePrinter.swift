/// The columns `kubectl get` shows for a resource, as kube-apiserver's printers give them for
/// the common built-in types; other resources show Name and Age.
public struct TablePrinter: Sendable {
    public var columns: [TableColumn]

    public init(columns: [TableColumn]) { self.columns = columns }

    /// The Table for a list of objects; `includeObject` is `None`, `Metadata` (default) or
    /// `Object`.
    public func table(_ objects: [JSON], resourceVersion: String, continueToken: String? = nil,
                      remaining: Int64? = nil, includeObject: String) -> JSON {
        var metadata: JSON = ["resourceVersion": .string(resourceVersion)]
        if let continueToken { metadata["continue"] = .string(continueToken) }
        if let remaining, remaining > 0 { metadata["remainingItemCount"] = .int(remaining) }
        return [
            "kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": metadata,
            "columnDefinitions": .array(columns.map(\.definition)),
            "rows": .array(objects.map { row($0, includeObject: includeObject) }),
        ]
    }

    func row(_ object: JSON, includeObject: String) -> JSON {
        var row: JSON = ["cells": .array(columns.map { $0.cell(object) })]
        switch includeObject {
        case "None": break
        case "Object": row["object"] = object
        default:
            row["object"] = ["kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                             "metadata": object["metadata"] ?? .emptyObject]
        }
        return row
    }

    /// The printer of a resource.
    public static func forResource(_ resource: ResourceDescriptor) -> TablePrinter {
        let name = TableColumn.name, age = TableColumn.age
        if let custom = resource.custom {
            return custom.printerColumns.isEmpty ? TablePrinter(columns: [name, age])
                : TablePrinter(columns: [name] + custom.printerColumns.compactMap(TableColumn.printerColumn))
        }
        switch (resource.group, resource.kind) {
        case ("", "Namespace"):
            return TablePrinter(columns: [name, .field("Status", ["status", "phase"], none: ""), age])
        case ("", "ConfigMap"):
            return TablePrinter(columns: [name, TableColumn("Data", type: "integer") {
                .int(Int64(($0["data"]?.objectValue?.count ?? 0) + ($0["binaryData"]?.objectValue?.count ?? 0)))
            }, age])
        case ("", "Secret"):
            return TablePrinter(columns: [name, .field("Type", ["type"]), TableColumn("Data", type: "integer") {
                .int(Int64($0["data"]?.objectValue?.count ?? 0))
            }, age])
        case ("", "ServiceAccount"):
            return TablePrinter(columns: [name, age])
        case ("", "Pod"):
            return TablePrinter(columns: [name, podReady, podStatus, podRestarts, age,
                                          .field("IP", ["status", "podIP"], priority: 1),
                                          .field("Node", ["spec", "nodeName"], priority: 1),
                                          .field("Nominated Node", ["status", "nominatedNodeName"], priority: 1),
                                          TableColumn("Readiness Gates", priority: 1) { _ in "<none>" }])
        case ("", "Service"):
            return TablePrinter(columns: [name, .field("Type", ["spec", "type"]), .field("Cluster-IP", ["spec", "clusterIP"]),
                                          TableColumn("External-IP") { object in
                                              let ips = (object[path: ["spec", "externalIPs"]]?.arrayValue ?? []).compactMap(\.stringValue)
                                              return .string(ips.isEmpty ? "<none>" : ips.joined(separator: ","))
                                          },
                                          TableColumn("Port(s)") { object in
                                              let ports = (object[path: ["spec", "ports"]]?.arrayValue ?? []).map { port -> String in
                                                  let number = port["port"]?.intValue ?? 0
                                                  let proto = port["protocol"]?.stringValue ?? "TCP"
                                                  if let node = port["nodePort"]?.intValue { return "\(number):\(node)/\(proto)" }
                                                  return "\(number)/\(proto)"
                                              }
                                              return .string(ports.isEmpty ? "<none>" : ports.joined(separator: ","))
                                          }, age,
                                          TableColumn("Selector", priority: 1) { object in
                                              let selector = object[path: ["spec", "selector"]]?.objectValue ?? [:]
                                              return .string(selector.isEmpty ? "<none>" : selector.sorted { $0.key < $1.key }
                                                .map { "\($0.key)=\($0.value.stringValue ?? "")" }.joined(separator: ","))
                                          }])
        case ("apps", "Deployment"):
            return TablePrinter(columns: [name, TableColumn("Ready") { object in
                .string("\(object[path: ["status", "readyReplicas"]]?.intValue ?? 0)/\(object[path: ["spec", "replicas"]]?.intValue ?? 0)")
            }, .count("Up-to-date", ["status", "updatedReplicas"]), .count("Available", ["status", "availableReplicas"]), age,
            containers(["spec", "template", "spec"]), images(["spec", "template", "spec"]), selector])
        case ("apps", "ReplicaSet"), ("", "ReplicationController"):
            return TablePrinter(columns: [name, .count("Desired", ["spec", "replicas"]), .count("Current", ["status", "replicas"]),
                                          .count("Ready", ["status", "readyReplicas"]), age,
                                          containers(["spec", "template", "spec"]), images(["spec", "template", "spec"]), selector])
        case ("apps", "StatefulSet"):
            return TablePrinter(columns: [name, TableColumn("Ready") { object in
                .string("\(object[path: ["status", "readyReplicas"]]?.intValue ?? 0)/\(object[path: ["spec", "replicas"]]?.intValue ?? 0)")
            }, age, containers(["spec", "template", "spec"]), images(["spec", "template", "spec"])])
        case ("apps", "DaemonSet"):
            return TablePrinter(columns: [name, .count("Desired", ["status", "desiredNumberScheduled"]),
                                          .count("Current", ["status", "currentNumberScheduled"]),
                                          .count("Ready", ["status", "numberReady"]),
                                          .count("Up-to-date", ["status", "updatedNumberScheduled"]),
                                          .count("Available", ["status", "numberAvailable"]), age])
        case ("batch", "Job"):
            return TablePrinter(columns: [name, TableColumn("Completions") { object in
                .string("\(object[path: ["status", "succeeded"]]?.intValue ?? 0)/\(object[path: ["spec", "completions"]]?.intValue ?? 1)")
            }, age])
        case ("batch", "CronJob"):
            return TablePrinter(columns: [name, .field("Schedule", ["spec", "schedule"]),
                                          .field("Suspend", ["spec", "suspend"], none: "False"), age])
        case ("coordination.k8s.io", "Lease"):
            return TablePrinter(columns: [name, .field("Holder", ["spec", "holderIdentity"], none: ""), age])
        case ("", "Node"):
            return TablePrinter(columns: [name, TableColumn("Status") { object in
                let ready = (object[path: ["status", "conditions"]]?.arrayValue ?? []).first { $0["type"]?.stringValue == "Ready" }
                return .string(ready?["status"]?.stringValue == "True" ? "Ready" : "NotReady")
            }, TableColumn("Roles") { _ in "<none>" }, age, .field("Version", ["status", "nodeInfo", "kubeletVersion"], none: "")])
        case ("", "Event"):
            return TablePrinter(columns: [
                TableColumn("Last Seen") { .string(TableColumn.humanSince($0["lastTimestamp"]?.stringValue ?? $0["eventTime"]?.stringValue)) },
                .field("Type", ["type"], none: ""), .field("Reason", ["reason"], none: ""),
                TableColumn("Object") { object in
                    .string("\((object[path: ["involvedObject", "kind"]]?.stringValue ?? "").lowercased())/\(object[path: ["involvedObject", "name"]]?.stringValue ?? "")")
                }, .field("Message", ["message"], none: "")])
        default:
            return TablePrinter(columns: [name, age])
        }
    }

    static let podReady = TableColumn("Ready") { object in
        let total = object[path: ["spec", "containers"]]?.arrayValue?.count ?? 0
        let ready = (object[path: ["status", "containerStatuses"]]?.arrayValue ?? []).filter { $0["ready"]?.boolValue == true }.count
        return .string("\(ready)/\(total)")
    }
    static let podStatus = TableColumn("Status") { object in
        if object[path: ["metadata", "deletionTimestamp"]] != nil { return "Terminating" }
        return .string(object[path: ["status", "reason"]]?.stringValue ?? object[path: ["status", "phase"]]?.stringValue ?? "Unknown")
    }
    static let podRestarts = TableColumn("Restarts", type: "integer") { object in
        .int((object[path: ["status", "containerStatuses"]]?.arrayValue ?? []).reduce(Int64(0)) { sum, status in
            let (total, overflow) = sum.addingReportingOverflow(status["restartCount"]?.intValue ?? 0)
            return overflow ? .max : total
        })
    }
    static let selector = TableColumn("Selector", priority: 1) { object in
        guard let selector = object[path: ["spec", "selector"]], let parsed = try? LabelSelector(object: selector) else { return "<none>" }
        let text = parsed.text
        return .string(text.isEmpty ? "<none>" : text)
    }

    static func containers(_ podSpec: [String]) -> TableColumn {
        TableColumn("Containers", priority: 1) { object in
            .string((object[path: podSpec + ["containers"]]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }.joined(separator: ","))
        }
    }

    static func images(_ podSpec: [String]) -> TableColumn {
        TableColumn("Images", priority: 1) { object in
            .string((object[path: podSpec + ["containers"]]?.arrayValue ?? []).compactMap { $0["image"]?.stringValue }.joined(separator: ","))
        }
    }
}

import Foundation

extension TableColumn {
    static func humanSince(_ timestamp: String?) -> String {
        guard let timestamp, let date = RFC3339.parse(timestamp) else { return "<unknown>" }
        return humanDuration(Date().timeIntervalSince(date))
    }
}
