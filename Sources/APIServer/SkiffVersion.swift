/// The versions Skiff reports about itself.
public enum SkiffVersion {
    /// Skiff's own version.
    public static let skiff = "0.1.0"
    /// The Kubernetes API version Skiff serves.
    public static let kubernetesMajor = "1"
    public static let kubernetesMinor = "34"
    /// The `gitVersion` a Kubernetes client sees: the API version, with Skiff's in the build metadata.
    public static var gitVersion: String { "v\(kubernetesMajor).\(kubernetesMinor).0+skiff.\(skiff)" }
}
