import Synchronization

/// A fixed set of resources (connections) handed out one caller at a time, first come
/// first served. A caller that finds none free waits without blocking a thread.
final class ResourcePool<Resource: Sendable>: Sendable {
    private struct State {
        var free: [Resource]
        var waiters: [CheckedContinuation<Resource, any Error>] = []
        var closed = false
    }

    private let state: Mutex<State>

    init(_ resources: [Resource]) {
        state = Mutex(State(free: resources))
    }

    /// Takes a resource, waiting for one to be released if none is free.
    func acquire() async throws -> Resource {
        try await withCheckedThrowingContinuation { continuation in
            let result: Result<Resource, any Error>? = state.withLock { s in
                if s.closed { return .failure(StorageError.closed) }
                if let r = s.free.popLast() { return .success(r) }
                s.waiters.append(continuation)
                return nil
            }
            if let result { continuation.resume(with: result) }
        }
    }

    /// Gives a resource back, handing it straight to the longest waiter if there is one.
    func release(_ resource: Resource) {
        let waiter: CheckedContinuation<Resource, any Error>? = state.withLock { s in
            if s.waiters.isEmpty {
                s.free.append(resource)
                return nil
            }
            return s.waiters.removeFirst()
        }
        waiter?.resume(returning: resource)
    }

    /// Runs `body` with a resource and releases it afterwards, also when `body` throws.
    @discardableResult
    func withResource<T>(_ body: (Resource) async throws -> T) async throws -> T {
        let r = try await acquire()
        do {
            let value = try await body(r)
            release(r)
            return value
        } catch {
            release(r)
            throw error
        }
    }

    /// Refuses further acquisitions, fails every waiter, and returns the resources that
    /// were free. Resources still in use are returned to the pool by their users later.
    func close() -> [Resource] {
        let (free, waiters) = state.withLock { s in
            s.closed = true
            let result = (s.free, s.waiters)
            s.free = []
            s.waiters = []
            return result
        }
        for w in waiters { w.resume(throwing: StorageError.closed) }
        return free
    }
}
