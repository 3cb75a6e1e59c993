/// The parts of a CustomResourceDefinition version the engine serves a custom resource by.
public struct CustomResourceInfo: Sendable, Hashable {
    /// The version objects are stored at (`apiVersion` in storage).
    public var storageVersion: String
    /// The version's `openAPIV3Schema` (structural).
    public var schema: JSON
    /// `additionalPrinterColumns`.
    public var printerColumns: [JSON]
    /// `selectableFields` paths (`spec.color`), without the leading dot.
    public var selectableFields: [String]
    /// The scale subresource's paths (field names from the root), when it has one.
    public var specReplicasPath: [String]?
    public var statusReplicasPath: [String]?
    public var labelSelectorPath: [String]?
    /// The warning a deprecated version answers with.
    public var deprecationWarning: String?
    /// The definition's `spec.conversion.webhook` when its strategy is `Webhook`.
    public var conversionWebhook: JSON?

    public init(storageVersion: String, schema: JSON, printerColumns: [JSON] = [], selectableFields: [String] = [],
                specReplicasPath: [String]? = nil, statusReplicasPath: [String]? = nil, labelSelectorPath: [String]? = nil,
                deprecationWarning: String? = nil, conversionWebhook: JSON? = nil) {
        self.storageVersion = storageVersion
        self.schema = schema
        self.printerColumns = printerColumns
        self.selectableFields = selectableFields
        self.specReplicasPath = specReplicasPath
        self.statusReplicasPath = statusReplicasPath
        self.labelSelectorPath = labelSelectorPath
        self.deprecationWarning = deprecationWarning
        self.conversionWebhook = conversionWebhook
    }
}
