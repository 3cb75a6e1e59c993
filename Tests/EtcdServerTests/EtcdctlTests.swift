import Foundation
import TestSupport
import Testing

/// The real etcdctl (Debian's etcd-client) against a real `skiff etcd` process.
@Suite(.serialized, .timeLimit(.minutes(10))) struct EtcdctlTests {
    @Test func putGetDeleteWithPrefixesAndRevisions() async throws {
        try await offPool {
            let etcd = try SkiffEtcd()
            defer { etcd.destroy() }
            #expect(try etcd.etcdctl(["put", "/app/a", "1"]).stdout == "OK\n")
            try etcd.etcdctl(["put", "/app/b", "2"])
            try etcd.etcdctl(["put", "/app/a", "3"])
            try etcd.etcdctl(["put", "/other", "x"])

            let prefix = try json(etcd.etcdctl(["get", "/app/", "--prefix", "-w", "json"]).stdout)
            #expect(prefix.array("kvs").map { unb64($0["value"]) } == ["3", "2"])
            #expect(prefix.int("count") == 2)
            // A new store is at revision 1, as a new etcd: the four puts made revisions 2 to 5.
            #expect(prefix.object("header")?.int("revision") == 5)

            // At revision 2, /app/a had its first value.
            let old = try json(etcd.etcdctl(["get", "/app/a", "--rev", "2", "-w", "json"]).stdout)
            #expect(old.array("kvs").map { unb64($0["value"]) } == ["1"])
            #expect(old.array("kvs").first?.int("version") == 1)

            #expect(try etcd.etcdctl(["get", "/app/", "--prefix", "--keys-only"]).stdout == "/app/a\n\n/app/b\n\n")
            #expect(try etcd.etcdctl(["get", "/", "--prefix", "--limit", "1", "--sort-by", "VALUE", "--order", "DESCEND"]).stdout
                    == "/other\nx\n")
            #expect(try etcd.etcdctl(["get", "/app/a", "/other", "--keys-only"]).stdout == "/app/a\n\n/app/b\n\n")
            #expect(try etcd.etcdctl(["get", "/", "--from-key", "--keys-only"]).stdout == "/app/a\n\n/app/b\n\n/other\n\n")

            let deleted = try etcd.etcdctl(["del", "/app/", "--prefix", "--prev-kv"])
            #expect(deleted.stdout == "2\n/app/a\n3\n/app/b\n2\n")
            #expect(try etcd.etcdctl(["get", "/app/", "--prefix"]).stdout == "")
            // Both deletions happened at one revision.
            let after = try json(etcd.etcdctl(["get", "/other", "-w", "json"]).stdout)
            #expect(after.object("header")?.int("revision") == 6)
        }
    }

    /// etcd serves `/metrics`, `/health` and `/version` on its client port beside gRPC, over
    /// HTTP/1.1 and HTTP/2; so does `skiff etcd`, and gRPC on the same port is unaffected.
    @Test func metricsHealthAndVersionShareTheClientPort() async throws {
        try await offPool {
            let etcd = try SkiffEtcd()
            defer { etcd.destroy() }
            let base = etcd.endpoint
            #expect(try etcd.etcdctl(["put", "/m/a", "1"]).status == 0)
            #expect(try etcd.etcdctl(["put", "/m/a", "2"]).status == 0)

            let health = try curl(base + "/health")
            #expect(health.status == 200 && health.body == #"{"health":"true","reason":""}"#, "\(health)")
            #expect(health.httpVersion == "1.1")
            let version = try curl(base + "/version")
            #expect(version.status == 200 && version.body.contains(#""etcdserver":"3.5.21""#), "\(version)")

            let metrics = try curl(base + "/metrics")
            #expect(metrics.status == 200)
            #expect(metrics.sample("etcd_server_has_leader") == 1, "\(metrics.body)")
            // Revision 1 is the new store's; the two puts made 2 and 3.
            #expect(metrics.sample("etcd_debugging_mvcc_current_revision") == 3, "\(metrics.body)")
            #expect((metrics.sample("etcd_mvcc_db_total_size_in_bytes") ?? 0) >= 4096, "\(metrics.body)")
            let resident = try #require(metrics.sample("process_resident_memory_bytes"), "\(metrics.body)")
            let kernel = try #require(residentBytes(of: etcd.process.processIdentifier))
            #expect(resident > kernel / 2 && resident < kernel * 2, "\(resident) against VmRSS \(kernel)")
            #expect((metrics.sample("process_open_fds") ?? 0) > 3)

            // The same over HTTP/2 (what an https client negotiates), and gRPC still answers.
            let h2 = try curl(base + "/health", http2: true)
            #expect(h2.status == 200 && h2.httpVersion == "2" && h2.body.contains(#""health":"true""#), "\(h2)")
            #expect(try curl(base + "/metrics", http2: true).sample("etcd_server_has_leader") == 1)

            // Wrong paths and methods, and bytes that are neither protocol.
            #expect(try curl(base + "/v2/keys").status == 404)
            #expect(try curl(base + "/metrics", method: "POST").status == 405)
            let garbage = try run(try which("python3"), ["-c", """
                import socket
                s = socket.create_connection(("127.0.0.1", int("\(base.split(separator: ":").last ?? "0")")))
                s.settimeout(10)
                s.sendall(b"NOT HTTP AT ALL\\r\\n\\r\\n")
                out = b""
                while True:
                    d = s.recv(4096)
                    if not d: break
                    out += d
                print(out.decode().splitlines()[0] if out else "closed without an answer")
                """], timeout: 30)
            #expect(garbage.stdout.hasPrefix("HTTP/1.1 400"), "\(garbage.stdout)\(garbage.stderr)")
            #expect(try etcd.etcdctl(["get", "/m/a", "--print-value-only"]).stdout == "2\n")
            #expect(try etcd.etcdctl(["endpoint", "health"]).status == 0)
        }
    }

    /// A new store is at revision 1 in every header, as a new etcd is (issue 22: kube-apiserver
    /// refuses "resource version 0 from storage"), and its first write makes revision 2.
    @Test(.timeLimit(.minutes(10))) func aNewStoreIsAtRevisionOne() async throws {
        try await offPool {
            let etcd = try SkiffEtcd()
            defer { etcd.destroy() }
            let empty = try json(etcd.etcdctl(["get", "/nothing", "-w", "json"]).stdout)
            #expect(empty.object("header")?.int("revision") == 1)
            let status = try json(etcd.etcdctl(["endpoint", "status", "-w", "json"]).stdout.trimmingCharacters(in: CharacterSet(charactersIn: "[]\n")))
            #expect(status.object("Status")?.object("header")?.int("revision") == 1, "\(status)")
            let put = try json(etcd.etcdctl(["put", "/first", "x", "-w", "json"]).stdout)
            #expect(put.object("header")?.int("revision") == 2)
            let got = try json(etcd.etcdctl(["get", "/first", "-w", "json"]).stdout)
            #expect(got.array("kvs").first?.int("mod_revision") == 2)
            #expect(got.array("kvs").first?.int("create_revision") == 2)
        }
    }

    @Test func interactiveTransactions() async throws {
        try await offPool {
            let etcd = try SkiffEtcd()
            defer { etcd.destroy() }
            try etcd.etcdctl(["put", "/cfg/mode", "blue"])
            try etcd.etcdctl(["put", "/cfg/count", "1"])
            let success = try etcd.etcdctl(["txn", "-i"], stdin: """
                value("/cfg/mode") = "blue"
                mod("/cfg/count") > "0"

                put /cfg/mode green
                put /cfg/new fresh

                put /cfg/mode red


                """)
            #expect(success.status == 0, "\(success.stderr)")
            #expect(success.stdout.hasSuffix("SUCCESS\n\nOK\n\nOK\n"), "\(success.stdout)")
            #expect(try etcd.etcdctl(["get", "/cfg/mode", "--print-value-only"]).stdout == "green\n")

            let failure = try etcd.etcdctl(["txn", "-i"], stdin: """
                version("/cfg/mode") = "1"

                put /cfg/mode never

                get /cfg/mode


                """)
            #expect(failure.stdout.hasSuffix("FAILURE\n\n/cfg/mode\ngreen\n"), "\(failure.stdout)")

            // Both puts of the successful transaction share one revision.
            let kvs = try json(etcd.etcdctl(["get", "/cfg/", "--prefix", "-w", "json"]).stdout).array("kvs")
            let revisions = Dictionary(uniqueKeysWithValues: kvs.map { (unb64($0["key"]), $0.int("mod_revision")) })
            #expect(revisions["/cfg/mode"] == revisions["/cfg/new"])
        }
    }

    /// A limited get reports the count of live keys in the range (deleted keys left out),
    /// now and at an earlier revision, and that more keys matched.
    @Test func aLimitedGetCountsOnlyLiveKeys() async throws {
        try await offPool {
            let etcd = try SkiffEtcd()
            defer { etcd.destroy() }
            for key in ["a", "b", "c", "d"] { try etcd.etcdctl(["put", "/n/\(key)", key]) }
            let beforeDelete = try json(etcd.etcdctl(["get", "/n/a", "-w", "json"]).stdout).object("header")?.int("revision") ?? 0
            try etcd.etcdctl(["del", "/n/b"])

            let now = try json(etcd.etcdctl(["get", "/n/", "--prefix", "--limit", "2", "-w", "json"]).stdout)
            #expect(now.array("kvs").map { unb64($0["key"]) } == ["/n/a", "/n/c"])
            #expect(now.int("count") == 3)
            #expect(now["more"] as? Bool == true)

            let earlier = try json(etcd.etcdctl(["get", "/n/", "--prefix", "--limit", "2", "--rev", "\(beforeDelete)", "-w", "json"]).stdout)
            #expect(earlier.array("kvs").map { unb64($0["key"]) } == ["/n/a", "/n/b"])
            #expect(earlier.int("count") == 4)

            let all = try json(etcd.etcdctl(["get", "/n/", "--prefix", "--keys-only", "-w", "json"]).stdout)
            #expect(all.array("kvs").map { unb64($0["key"]) } == ["/n/a", "/n/c", "/n/d"])
            #expect(all.int("count") == 3)
        }
    }

    /// Issue 20 C: the largest limit etcdctl can send is no limit; it once overflowed
    /// `limit + 1` and killed the server, without credentials.
    @Test(.timeLimit(.minutes(10))) func theLargestLimitIsNoLimit() async throws {
        try await offPool {
            let etcd = try SkiffEtcd()
            defer { etcd.destroy() }
            for key in ["a", "b"] { try etcd.etcdctl(["put", "/big/\(key)", key]) }
            let got = try json(etcd.etcdctl(["get", "/", "--prefix", "--limit=9223372036854775807", "-w", "json"]).stdout)
            #expect(got.array("kvs").map { unb64($0["key"]) } == ["/big/a", "/big/b"])
            #expect(got["more"] as? Bool != true)
            // The server is still there.
            #expect(try etcd.etcdctl(["put", "/big/c", "c"]).status == 0)
        }
    }

    @Test func watchFromARevisionWithPreviousValues() async throws {
        try await offPool {
            let etcd = try SkiffEtcd()
            defer { etcd.destroy() }
            try etcd.etcdctl(["put", "/w/a", "1"])
            try etcd.etcdctl(["put", "/w/a", "2"])
            try etcd.etcdctl(["put", "/w/b", "3"])
            try etcd.etcdctl(["del", "/w/a"])
            // Replays history from revision 3 (the second put), then stays live for the write made meanwhile.
            let watcher = Process()
            watcher.executableURL = URL(fileURLWithPath: try which("etcdctl"))
            watcher.arguments = ["--endpoints=\(etcd.endpoint)", "watch", "/w/", "--prefix", "--rev", "3", "--prev-kv"]
            watcher.environment = ["ETCDCTL_API": "3"]
            let outFile = etcd.dataDir + ".watch"
            FileManager.default.createFile(atPath: outFile, contents: nil)
            defer { try? FileManager.default.removeItem(atPath: outFile) }
            watcher.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: outFile))
            try watcher.run()
            func printed() -> String { (try? String(contentsOfFile: outFile, encoding: .utf8)) ?? "" }
            func wait(for text: String) async throws {
                let deadline = Date().addingTimeInterval(30)
                while Date() < deadline, !printed().contains(text) { try await Task.sleep(for: .milliseconds(50)) }
            }
            // The history is replayed (its last event is the delete), then a write made now
            // comes live.
            try await wait(for: "DELETE\n/w/a\n2\n/w/a\n")
            try etcd.etcdctl(["put", "/w/c", "live"])
            try await wait(for: "/w/c\nlive\n")
            watcher.terminate()
            watcher.waitUntilExit()
            let text = printed()
            #expect(text == """
                PUT
                /w/a
                1
                /w/a
                2
                PUT
                /w/b
                3
                DELETE
                /w/a
                2
                /w/a

                PUT
                /w/c
                live

                """, "\(text)")
        }
    }

    @Test func leasesGrantKeepAliveTimeToLiveRevoke() async throws {
        try await offPool {
            let etcd = try SkiffEtcd()
            defer { etcd.destroy() }
            let granted = try etcd.etcdctl(["lease", "grant", "60"]).stdout
            let id = try #require(granted.split(separator: " ").dropFirst().first.map(String.init))
            #expect(granted == "lease \(id) granted with TTL(60s)\n")
            try etcd.etcdctl(["put", "/leased", "v", "--lease=\(id)"])
            #expect(try etcd.etcdctl(["lease", "keep-alive", "--once", id]).stdout == "lease \(id) keepalived with TTL(60)\n")
            let ttl = try etcd.etcdctl(["lease", "timetolive", id, "--keys"]).stdout
            #expect(ttl.hasPrefix("lease \(id) granted with TTL(60s), remaining("))
            #expect(ttl.hasSuffix("attached keys([/leased])\n"))
            #expect(try etcd.etcdctl(["lease", "list"]).stdout == "found 1 leases\n\(id)\n")
            #expect(try etcd.etcdctl(["lease", "revoke", id]).stdout == "lease \(id) revoked\n")
            #expect(try etcd.etcdctl(["get", "/leased"]).stdout == "")
            #expect(try etcd.etcdctl(["lease", "timetolive", id]).stdout == "lease \(id) already expired\n")
            let missing = try etcd.etcdctl(["lease", "revoke", id])
            #expect(missing.status != 0)
            #expect(missing.stderr.contains("etcdserver: requested lease not found"))
            let unknown = try etcd.etcdctl(["put", "/k", "v", "--lease=1234"])
            #expect(unknown.stderr.contains("etcdserver: requested lease not found"))

            // A short lease expires by itself and takes its key with it.
            let short = try etcd.etcdctl(["lease", "grant", "3"]).stdout.split(separator: " ")[1]
            try etcd.etcdctl(["put", "/short", "v", "--lease=\(short)"])
            #expect(try etcd.etcdctl(["get", "/short", "--print-value-only"]).stdout == "v\n")
            var gone = false
            for _ in 0..<100 where !gone {
                try await Task.sleep(for: .seconds(0.2))
                gone = try etcd.etcdctl(["get", "/short"]).stdout.isEmpty
            }
            #expect(gone)
        }
    }

    @Test func compactionAndCompactedErrors() async throws {
        try await offPool {
            let etcd = try SkiffEtcd()
            defer { etcd.destroy() }
            // The puts make revisions 2 to 6.
            for i in 1...5 { try etcd.etcdctl(["put", "/c", "\(i)"]) }
            #expect(try etcd.etcdctl(["compaction", "5"]).stdout == "compacted revision 5\n")
            let old = try etcd.etcdctl(["get", "/c", "--rev", "2"])
            #expect(old.status != 0)
            #expect(old.stderr.contains("etcdserver: mvcc: required revision has been compacted"))
            #expect(try etcd.etcdctl(["get", "/c", "--rev", "5", "--print-value-only"]).stdout == "4\n")
            let again = try etcd.etcdctl(["compaction", "3"])
            #expect(again.stderr.contains("etcdserver: mvcc: required revision has been compacted"))
            let future = try etcd.etcdctl(["get", "/c", "--rev", "99"])
            #expect(future.stderr.contains("etcdserver: mvcc: required revision is a future revision"))
            // A watch from a compacted revision is canceled with the compact revision.
            let watch = try etcd.etcdctl(["watch", "/c", "--rev", "2"], timeout: 10)
            #expect(watch.stdout.contains("compacted") || watch.stderr.contains("compacted"), "\(watch.stdout)\(watch.stderr)")
        }
    }

    @Test func snapshotSaveAndStatusAndEndpointStatus() async throws {
        try await offPool {
            let etcd = try SkiffEtcd()
            defer { etcd.destroy() }
            // Enough records to need several bbolt pages and a branch page.
            var ops = ""
            for i in 0..<300 { ops += "put /snap/\(i % 50) \(String(repeating: "v", count: i + 1))\n" }
            for chunk in ops.split(separator: "\n").chunks(of: 50) {
                try etcd.etcdctl(["txn", "-i"], stdin: "\n" + chunk.joined(separator: "\n") + "\n\n\n")
            }
            try etcd.etcdctl(["del", "/snap/7"])
            let file = etcd.dataDir + "/backup.db"
            let saved = try etcd.etcdctl(["snapshot", "save", file])
            #expect(saved.status == 0, "\(saved.stderr)")
            #expect(saved.stdout.contains("Snapshot saved at \(file)"))
            // etcdctl opens the file as a bbolt database and checks its integrity.
            let status = try json(etcd.etcdctl(["snapshot", "status", file, "-w", "json"]).stdout)
            #expect(status.int("revision") == 8)
            #expect(status.int("totalKey") ?? 0 > 301) // every retained change, plus the meta records
            #expect(status.int("totalSize") ?? 0 > 4096 * 4)

            let endpoint = try json(etcd.etcdctl(["endpoint", "status", "-w", "json"]).stdout.trimmingCharacters(in: CharacterSet(charactersIn: "[]\n")))
            let s = try #require(endpoint.object("Status"))
            let version = (s["version"] as? String) ?? ""
            #expect(version.compare("3.5.13", options: .numeric) != .orderedAscending)
            #expect(s.int("dbSize") ?? 0 > 0)
            #expect(s.int("raftIndex") == 8)
            #expect(s.object("header")?.int("member_id") == s.int("leader"))
            #expect(try etcd.etcdctl(["defrag"]).stdout.contains("Finished defragmenting etcd member"))
            let alarms = try etcd.etcdctl(["alarm", "list"])
            #expect(alarms.status == 0 && alarms.stdout.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty,
                    "no alarm is raised: \(alarms.stdout)")
            #expect(try etcd.etcdctl(["member", "list"]).stdout.contains("started, default"))
            func hashKV() throws -> Int64? {
                let output = try etcd.etcdctl(["endpoint", "hashkv", "-w", "json"]).stdout
                let status: [String: Any] = try json(output.trimmingCharacters(in: CharacterSet(charactersIn: "[]\n")))
                return status.object("HashKV")?.int("hash")
            }
            let hash = try #require(try hashKV())
            #expect(try hashKV() == hash, "the same history hashes the same")
            #expect(try etcd.etcdctl(["put", "/hash/changed", "yes"]).status == 0)
            #expect(try hashKV() != hash, "a new revision changes the hash")
        }
    }

    @Test func badRequestsGetEtcdsErrors() async throws {
        try await offPool {
            let etcd = try SkiffEtcd()
            defer { etcd.destroy() }
            // etcdctl reads the value from standard input when the argument is left out.
            let tooLarge = try etcd.etcdctl(["put", "/big"], stdin: String(repeating: "x", count: 1_700_000))
            #expect(tooLarge.status != 0)
            #expect(tooLarge.stderr.contains("etcdserver: request is too large"), "\(tooLarge.stderr)")
            let duplicate = try etcd.etcdctl(["txn", "-i"], stdin: "\nput /d 1\nput /d 2\n\n\n")
            #expect(duplicate.stderr.contains("etcdserver: duplicate key given in txn request"), "\(duplicate.stderr)")
            #expect(try etcd.etcdctl(["get", "/big"]).stdout == "")
            #expect(try etcd.etcdctl(["get", "/d"]).stdout == "")
        }
    }

    @Test func survivesRestartWithItsData() async throws {
        try await offPool {
            let first = try SkiffEtcd()
            try first.etcdctl(["put", "/persist", "yes"])
            first.stop()
            #expect(first.process.terminationStatus == 0)
            let second = try SkiffEtcd(dataDir: first.dataDir)
            defer { second.destroy() }
            #expect(try second.etcdctl(["get", "/persist", "--print-value-only"]).stdout == "yes\n")
        }
    }
}

extension Array {
    func chunks(of size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
    }
}

/// `etcdctl check perf`: a minute of load from 50 clients, with etcdctl's own pass criteria.
@Suite(.serialized, .timeLimit(.minutes(10))) struct EtcdctlCheckPerfTests {
    @Test func checkPerfSmallLoadPasses() async throws {
        // Its criteria are latencies (the slowest request under 0.5 s): the machine to itself.
        try await offPool(alone: true) {
            let etcd = try SkiffEtcd()
            defer { etcd.destroy() }
            let result = try etcd.etcdctl(["check", "perf", "--load=s"], timeout: 180)
            #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
            #expect(result.stdout.contains("PASS: Throughput"), "\(result.stdout)")
        }
    }
}
