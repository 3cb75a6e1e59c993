/// A failure while a command runs, as opposed to a mistake in its arguments: ArgumentParser
/// prints it as `Error: ...` and exits 1, without the usage text it adds to a
/// `ValidationError`.
struct RuntimeError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) { self.description = description }
}
