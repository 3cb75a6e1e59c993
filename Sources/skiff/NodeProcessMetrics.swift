import Cluster
import SystemFigures

/// The dqlite node process's figures for the server's `/metrics`: its resources, named as
/// the process collector's under `skiff_dqlite_node_`, and how often it was started again.
enum NodeProcessMetrics {
    static func render(_ supervisor: NodeSupervisor) -> String {
        var out = """
            # HELP skiff_dqlite_node_restarts_total Times the dqlite node process was started again after it died.
            # TYPE skiff_dqlite_node_restarts_total counter
            skiff_dqlite_node_restarts_total \(supervisor.restarts)

            """
        if let pid = supervisor.processID, let figures = ProcessFigures.read(pid: pid) {
            out += figures.render(prefix: "skiff_dqlite_node", what: "the dqlite node process")
        }
        return out
    }
}
