import Logging

/// How the in-process control loops run: a pass (typically a full read, then a watch) again
/// and again until cancelled, pausing a second after a failure.
enum ControllerLoop {
    static func run(_ name: String, logger: Logger, _ pass: () async throws -> Void) async {
        while !Task.isCancelled {
            do {
                try await pass()
            } catch is CancellationError {
                return
            } catch {
                logger.warning("\(name): \(error); starting again")
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }
}
