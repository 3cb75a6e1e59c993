/// The strategy of kinds without rules of their own: objects with a status subresource start
/// with an empty status (`{}`, as Kubernetes writes a zero status), and updates of the main
/// resource keep the stored status. What differs between such kinds is data, given when
/// the kind is registered.
public struct DefaultStrategy: ResourceStrategy {
    /// The data that tells one plain kind from another.
    public struct Options: Sendable {
        /// Status writes change nothing but the status (kube-apiserver resets their metadata).
        public var statusResetsMetadata = false
        public var returnsDeletedObject = false
        public var selectableFields: [String] = []
        public var columns: [TableColumn]? = nil

        public init(statusResetsMetadata: Bool = false, returnsDeletedObject: Bool = false, selectableFields: [String] = [],
                    columns: [TableColumn]? = nil) {
            self.statusResetsMetadata = statusResetsMetadata
            self.returnsDeletedObject = returnsDeletedObject
            self.selectableFields = selectableFields
            self.columns = columns
        }
    }

    let resource: ResourceDescriptor
    let options: Options

    public init(_ resource: ResourceDescriptor, _ options: Options = Options()) {
        self.resource = resource
        self.options = options
    }

    public func prepareForCreate(_ object: inout JSON) {
        if resource.hasStatusSubresource { object["status"] = .emptyObject }
    }

    public func prepareForUpdate(_ object: inout JSON, old: JSON) {
        if resource.hasStatusSubresource { object["status"] = old["status"] }
    }

    public var selectableFields: [String] { options.selectableFields }
    public var returnsDeletedObject: Bool { options.returnsDeletedObject }
    public var table: TablePrinter { TablePrinter(columns: options.columns ?? [.name, .age]) }

    public func statusUpdate(_ object: JSON, old: JSON) -> JSON {
        statusUpdate(object, old: old, keeping: options.statusResetsMetadata ? [] : ["labels", "annotations", "finalizers", "ownerReferences"])
    }
}
