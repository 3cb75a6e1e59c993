import Dispatch

/// A task executor on a serial dispatch queue: a task that prefers it runs its jobs on the
/// queue, so blocking work queued there (a connection's statements) runs in place instead of
/// bouncing between the queue's thread and the cooperative pool.
final class QueueTaskExecutor: TaskExecutor, @unchecked Sendable {
    let queue: DispatchQueue

    init(queue: DispatchQueue) {
        self.queue = queue
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queue.async { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
