import Synchronization

/// The member addresses a node knows, shared by the parts of the node process that dial
/// the cluster: this node's own address first.
final class AddressBook: Sendable {
    private let addresses: Mutex<[String]>

    init(_ addresses: [String]) { self.addresses = Mutex(addresses) }

    var all: [String] { addresses.withLock { $0 } }

    /// Replaces the list; returns whether its set of addresses changed.
    func replace(with list: [String]) -> Bool {
        addresses.withLock { current in
            defer { current = list }
            return Set(current) != Set(list)
        }
    }
}
