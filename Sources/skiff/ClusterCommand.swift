import ArgumentParser
import Cluster
import Foundation

/// `skiff cluster`: membership of a replicated (dqlite) cluster.
struct ClusterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster",
        abstract: "Show and change the members of a replicated (dqlite) cluster.",
        subcommands: [Status.self, Remove.self, Token.self, Recover.self])

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Members, their roles, the leader and each member's health.")
        @Option(name: .customLong("data-dir"), help: "A member's data directory.") var dataDir: String = ServerCommand.defaultDataDirectory
        @Option(name: [.customShort("o"), .customLong("output")], help: "table or json.") var output: String = "table"

        func run() async throws {
            let members: [ClusterMemberStatus]
            do {
                members = try await ClusterAdmin(dataDirectory: dataDir).status()
            } catch {
                throw RuntimeError("cannot read the cluster's state: \(error)")
            }
            if output == "json" {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                FileHandle.standardOutput.write(try encoder.encode(members) + Data("\n".utf8))
                return
            }
            var lines = [["ID", "ADDRESS", "ROLE", "LEADER", "HEALTH"]]
            for m in members {
                lines.append([String(m.id), m.address, m.role, m.leader ? "*" : "", m.healthy ? "ok" : "unreachable"])
            }
            let widths = (0..<5).map { c in lines.map { $0[c].count }.max()! }
            for line in lines {
                print(line.enumerated().map { $1.padding(toLength: widths[$0] + 2, withPad: " ", startingAt: 0) }.joined())
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a member (by ID or address) from the cluster.")
        @Option(name: .customLong("data-dir"), help: "A member's data directory.") var dataDir: String = ServerCommand.defaultDataDirectory
        @Argument(help: "The member's ID or cluster address.") var node: String

        func run() async throws {
            do {
                let removed = try await ClusterAdmin(dataDirectory: dataDir).remove(node)
                print("removed member \(removed.id) (\(removed.address))")
            } catch {
                throw RuntimeError("cannot remove \(node): \(error)")
            }
        }
    }

    struct Token: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the token a new node needs to join (--join IP:PORT --token TOKEN).")
        @Option(name: .customLong("data-dir"), help: "A member's data directory.") var dataDir: String = ServerCommand.defaultDataDirectory

        func run() async throws {
            do {
                print(try ClusterAdmin(dataDirectory: dataDir).token())
            } catch {
                throw RuntimeError("\(error)")
            }
        }
    }

    struct Recover: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Bring back a cluster that lost its quorum: this stopped member becomes the only one, with its data.",
            discussion: "Run it on the surviving member with the newest data while its server is stopped, then start that server; other members join again with empty data directories.")
        @Option(name: .customLong("data-dir"), help: "The surviving member's data directory.") var dataDir: String = ServerCommand.defaultDataDirectory

        func run() async throws {
            do {
                let identity = try ClusterRecovery.recoverAsSoleMember(paths: ClusterPaths(dataDirectory: dataDir))
                print("member \(identity.id) (\(identity.address)) is now the cluster's only member; start its server, then join the others again with empty data directories")
            } catch {
                throw RuntimeError("cannot recover: \(error)")
            }
        }
    }
}
