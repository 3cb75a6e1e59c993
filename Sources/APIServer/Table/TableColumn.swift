import Foundation

/// One column of server-side Table output (`kubectl get`): its definition and how to read
/// its cell from an object.
public struct TableColumn: Sendable {
    public var name: String
    public var type: String
    public var format: String
    /// 0 = always shown, 1 = shown with `-o wide`.
    public var priority: Int
    public var cell: @Sendable (JSON) -> JSON

    public init(_ name: String, type: String = "string", format: String = "", priority: Int = 0,
                cell: @escaping @Sendable (JSON) -> JSON) {
        self.name = name
        self.type = type
        self.format = format
        self.priority = priority
        self.cell = cell
    }

    public var definition: JSON {
        ["name": .string(name), "type": .string(type), "format": .string(format), "description": "", "priority": .int(Int64(priority))]
    }

    /// A CustomResourceDefinition's printer column: the values its JSONPath reaches, dates
    /// shown as ages, as kube-apiserver's table convertor does.
    static func printerColumn(_ column: JSON) -> TableColumn? {
        guard let title = column["name"]?.stringValue, let path = column["jsonPath"]?.stringValue.flatMap(JSONPath.init) else { return nil }
        let type = column["type"]?.stringValue ?? "string"
        return TableColumn(title, type: type, format: column["format"]?.stringValue ?? "", priority: Int(column["priority"]?.intValue ?? 0)) { object in
            let values = path.values(in: object)
            guard let first = values.first else { return .null }
            switch type {
            case "date":
                guard let text = first.stringValue, let date = RFC3339.parse(text) else { return .string(first.stringValue ?? "") }
                return .string(humanDuration(Date().timeIntervalSince(date)))
            case "integer", "number", "boolean":
                return values.count == 1 ? first : .string(values.map { $0.stringValue ?? $0.text }.joined(separator: ","))
            default:
                return .string(values.map { $0.stringValue ?? $0.text }.joined(separator: ","))
            }
        }
    }

    static let name = TableColumn("Name", format: "name") { .string($0[path: ["metadata", "name"]]?.stringValue ?? "") }
    static let age = TableColumn("Age") { .string(TableColumn.age(of: $0)) }

    /// A string cell from a field path, `<none>` when absent.
    static func field(_ title: String, _ path: [String], priority: Int = 0, none: String = "<none>") -> TableColumn {
        TableColumn(title, priority: priority) { object in
            switch object[path: path] {
            case .string(let s)? where !s.isEmpty: return .string(s)
            case .int(let i)?: return .string(String(i))
            case .bool(let b)?: return .string(b ? "true" : "false")
            default: return .string(none)
            }
        }
    }

    /// An integer cell from a field path (0 when absent).
    static func count(_ title: String, _ path: [String], priority: Int = 0) -> TableColumn {
        TableColumn(title, type: "integer", priority: priority) { .int($0[path: path]?.intValue ?? 0) }
    }

    /// The object's age as kubectl shows it (`5s`, `3m2s`, `4h`, `12d`).
    static func age(of object: JSON) -> String {
        guard let text = object[path: ["metadata", "creationTimestamp"]]?.stringValue,
              let created = RFC3339.parse(text) else { return "<unknown>" }
        return humanDuration(Date().timeIntervalSince(created))
    }

    static func humanDuration(_ interval: TimeInterval) -> String {
        let seconds = Int(interval)
        if seconds < -1 { return "<invalid>" }
        if seconds < 0 { return "0s" }
        if seconds < 120 { return "\(seconds)s" }
        let minutes = seconds / 60
        if minutes < 10 { return seconds % 60 == 0 ? "\(minutes)m" : "\(minutes)m\(seconds % 60)s" }
        if minutes < 180 { return "\(minutes)m" }
        let hours = minutes / 60
        if hours < 8 { return minutes % 60 == 0 ? "\(hours)h" : "\(hours)h\(minutes % 60)m" }
        if hours < 48 { return "\(hours)h" }
        if hours < 24 * 8 { return hours % 24 == 0 ? "\(hours / 24)d" : "\(hours / 24)d\(hours % 24)h" }
        if hours < 24 * 365 * 2 { return "\(hours / 24)d" }
        let days = hours / 24
        if hours < 24 * 365 * 8 { return days % 365 == 0 ? "\(days / 365)y" : "\(days / 365)y\(days % 365)d" }
        return "\(days / 365)y"
    }
}

extension TableColumn {
    /// A workload's label selector.
    static let selector = TableColumn("Selector", priority: 1) { object in
        guard let selector = object[path: ["spec", "selector"]], let parsed = try? LabelSelector(object: selector) else { return "<none>" }
        let text = parsed.text
        return .string(text.isEmpty ? "<none>" : text)
    }

    /// The container names of the pod spec at `podSpec`.
    static func containers(_ podSpec: [String]) -> TableColumn {
        TableColumn("Containers", priority: 1) { object in
            .string((object[path: podSpec + ["containers"]]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }.joined(separator: ","))
        }
    }

    /// The container images of the pod spec at `podSpec`.
    static func images(_ podSpec: [String]) -> TableColumn {
        TableColumn("Images", priority: 1) { object in
            .string((object[path: podSpec + ["containers"]]?.arrayValue ?? []).compactMap { $0["image"]?.stringValue }.joined(separator: ","))
        }
    }

    static func humanSince(_ timestamp: String?) -> String {
        guard let timestamp, let date = RFC3339.parse(timestamp) else { return "<unknown>" }
        return humanDuration(Date().timeIntervalSince(date))
    }
}
