import ArgumentParser

/// etcd's flag for how often watches created with `progress_notify` hear from the server,
/// taken by `skiff etcd` and by `skiff server` for its etcd endpoint.
struct WatchProgressOptions: ParsableArguments {
    @Option(name: .customLong("experimental-watch-progress-notify-interval"),
            help: "How often etcd watches created with progress_notify get an empty response with the current revision.")
    var interval = DurationArgument(.seconds(600))

    func validate() throws {
        if interval.duration <= .zero {
            throw ValidationError("--experimental-watch-progress-notify-interval must be positive")
        }
    }
}
