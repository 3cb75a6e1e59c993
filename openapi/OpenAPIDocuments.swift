import Foundation

/// The generated documents in `openapi/` (see `scripts/generate-openapi`), bundled with the
/// binary as package resources.
public enum OpenAPIDocuments {
    /// The structural schemas of the served built-in types, by definition name.
    public static func definitions() throws -> Data { try load("definitions") }

    /// The catalog of built-in resources: group, version, kind, plural, scope, names, verbs.
    public static func resources() throws -> Data { try load("resources") }

    /// The protobuf wire schema of the built-in kinds (see `scripts/generate-protobuf`).
    public static func protobuf() throws -> Data { try load("protobuf") }

    private static func load(_ name: String) throws -> Data {
        guard let url = Bundle.module.url(forResource: name, withExtension: "json") else {
            throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: "\(name).json"])
        }
        return try Data(contentsOf: url)
    }
}
