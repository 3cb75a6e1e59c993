import APIServer
import ArgumentParser
import Storage

/// `skiff version`: what this binary is and what it runs on.
struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "version", abstract: "Print Skiff's version and the versions it speaks.")

    func run() {
        print("skiff \(SkiffVersion.skiff)")
        print("kubernetes API \(SkiffVersion.gitVersion)")
        print("sqlite \(SQLiteDatabase.libraryVersion)")
    }
}
