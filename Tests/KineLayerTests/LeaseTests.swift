import TestSupport
import Testing
@testable import KineLayer

@Suite(.timeLimit(.minutes(5))) struct LeaseTests {
    @Test func expiryDeletesAttachedKeysEachWithItsOwnRevision() async throws {
        try await withStore(testOptions()) { store, _ in
            // A long lease while the keys are attached (a loaded machine may take seconds),
            // then its expiry moved into the past: the expiry loop must do the rest.
            let lease = try await store.grantLease(ttl: 600)
            try await store.create(.k("/l/a"), value: .k("a"), lease: lease.id)
            try await store.create(.k("/l/b"), value: .k("b"), lease: lease.id)
            try await store.create(.k("/l/free"), value: .k("stays"))
            let attached = try await store.lease(lease.id, withKeys: true)
            #expect(Set(attached.keys) == [.k("/l/a"), .k("/l/b")])
            let before = try await store.currentRevision()
            let stream = try await store.watch(.prefix("/l/"))
            try await store.database.write { c in
                try await c.execute("UPDATE kine_lease SET expires_at = ? WHERE id = ?", [.integer(LeaseManager.now() - 1), .integer(lease.id)])
            }

            let events = try await collect(stream, timeout: .seconds(60)) { $0.count >= 2 }
            #expect(events.map(\.kind) == [.delete, .delete])
            #expect(events.map(\.revision) == [before + 1, before + 2])
            #expect(Set(events.map(\.kv.key)) == [.k("/l/a"), .k("/l/b")])
            #expect(try await store.list(.prefix("/l/")).kvs.map(\.valueString) == ["stays"])
            await #expect(throws: KineError.leaseNotFound(id: lease.id)) { try await store.keepAlive(lease: lease.id) }
        }
    }

    @Test func keepAliveHoldsALeasePastItsTTL() async throws {
        try await withStore(testOptions()) { store, _ in
            // Each keep-alive moves the expiry to a full TTL from the renewal, past the
            // deadline the lease was granted with. Compared on the lease clock, not by
            // waiting out the TTL, so that a loaded machine's scheduling cannot decide it; the
            // TTL is long because CI's blocking tests can starve the cooperative pool for seconds.
            let lease = try await store.grantLease(ttl: 120)
            try await store.create(.k("/ka"), value: .k("v"), lease: lease.id)
            var deadline = lease.expiresAt
            for _ in 0..<3 {
                try await Task.sleep(for: .milliseconds(600))
                let before = LeaseManager.now()
                let renewed = try await store.keepAlive(lease: lease.id)
                #expect(renewed.ttl == 120)
                #expect(renewed.expiresAt >= before + 120_000, "a full TTL from the renewal")
                #expect(renewed.expiresAt > deadline, "later than the previous deadline")
                deadline = renewed.expiresAt
                #expect(try await store.lease(lease.id).lease.expiresAt == deadline, "the new deadline is stored")
            }
            #expect(try await store.get(.k("/ka")).kv?.lease == lease.id)
        }
    }

    @Test func revokeDeletesKeysAndTheLease() async throws {
        try await withStore(testOptions()) { store, _ in
            let lease = try await store.grantLease(ttl: 600, id: 4242)
            #expect(lease.id == 4242)
            await #expect(throws: KineError.leaseExists(id: 4242)) { try await store.grantLease(ttl: 5, id: 4242) }
            try await store.create(.k("/r/1"), value: .k("x"), lease: 4242)
            try await store.revokeLease(4242)
            #expect(try await store.get(.k("/r/1")).kv == nil)
            await #expect(throws: KineError.leaseNotFound(id: 4242)) { try await store.revokeLease(4242) }
            await #expect(throws: KineError.leaseNotFound(id: 4242)) { try await store.put(.k("/r/2"), value: .k("y"), lease: 4242) }
            await #expect(throws: KineError.invalidArgument("lease TTL must be between 1 and 9000000000 seconds")) {
                try await store.grantLease(ttl: 0)
            }
        }
    }

    @Test func leasesSurviveRestart() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        var store = try await KineStore.open(directory: dir.path, options: testOptions())
        let lease = try await store.grantLease(ttl: 300)
        try await store.create(.k("/persist"), value: .k("x"), lease: lease.id)
        await store.close()

        store = try await KineStore.open(directory: dir.path, options: testOptions())
        let (found, keys) = try await store.lease(lease.id, withKeys: true)
        #expect(found.ttl == 300)
        #expect(found.remainingSeconds(at: LeaseManager.now()) > 290)
        #expect(keys == [.k("/persist")])
        #expect(try await store.allLeases().map(\.id) == [lease.id])
        await store.close()
    }
}

@Suite(.timeLimit(.minutes(5))) struct LeaseExpiryRaceTests {
    /// An expiry decided on a stale reading does not revoke a lease renewed in between.
    @Test func aKeepAliveThatLandsFirstWinsOverExpiry() async throws {
        try await withStore(testOptions()) { store, _ in
            let lease = try await store.grantLease(ttl: 60)
            try await store.create(.k("/race"), value: .k("v"), lease: lease.id)
            let executor = BatchExecutor(db: store.database)
            // "Expired by" a time before the lease's expiry: must change nothing.
            let outcome = try await executor.execute([.revokeLease(id: lease.id, expiredBy: LeaseManager.now())])
            #expect(outcome.events.isEmpty)
            #expect(try await store.get(.k("/race")).kv != nil)
            #expect(try await store.lease(lease.id).lease.id == lease.id)
            // Expired by a time after it: revoked.
            let later = try await executor.execute([.revokeLease(id: lease.id, expiredBy: LeaseManager.now() + 61_000)])
            #expect(later.events.map(\.kind) == [.delete])
        }
    }
}
