import CAIOTeardown
import Logging

/// The node process's deferral of libraft's AIO-context teardown (see CAIOTeardown's
/// header): a full Raft log segment's io_destroy(2) waits out an RCU grace period (28–42 ms
/// measured), which on the node's event loop stalls replication and SQL several times a
/// second under load. Turned on, the teardown runs on a thread of its own.
enum AIOTeardown {
    /// Whether the executable exports its syscall(2), so that libraft's calls reach the
    /// deferral: false means the link step lost `--export-dynamic-symbol=syscall`.
    static var interposed: Bool { skiff_aio_teardown_interposed() != 0 }

    /// Turns deferral on for this process; says so in the log, or warns when it cannot
    /// take effect.
    static func enable(logger: Logger) {
        skiff_aio_teardown_defer(1)
        if interposed {
            logger.info("raft segment AIO teardown runs off the event loop")
        } else {
            logger.warning("libraft's syscall(2) is not interposed: each full raft segment will stall the node's event loop while the kernel tears down its AIO context")
        }
    }
}
