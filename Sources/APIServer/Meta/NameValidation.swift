/// The name, label and annotation rules of Kubernetes object metadata.
public enum NameValidation {
    /// Errors of a DNS-1123 subdomain (most object names): at most 253 characters of
    /// lowercase alphanumerics, '-' and '.', starting and ending with an alphanumeric.
    /// Names that only have to be a path segment (RBAC objects): not `.` or `..`, no `/` or `%`.
    public static func pathSegmentErrors(_ name: String) -> [String] {
        if name == "." || name == ".." { return ["may not be '\(name)'"] }
        for bad in ["/", "%"] where name.contains(bad) { return ["may not contain '\(bad)'"] }
        return []
    }

    public static func subdomainErrors(_ name: String) -> [String] {
        var errors: [String] = []
        if name.utf8.count > 253 { errors.append("must be no more than 253 characters") }
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        if name.isEmpty || !labels.allSatisfy({ isLabel($0) }) {
            errors.append("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")
        }
        return errors
    }

    /// Errors of a DNS-1123 label (namespace names): at most 63 lowercase alphanumerics or
    /// '-', starting and ending with an alphanumeric.
    public static func labelErrors(_ name: String) -> [String] {
        var errors: [String] = []
        if name.utf8.count > 63 { errors.append("must be no more than 63 characters") }
        if !isLabel(Substring(name)) {
            errors.append("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')")
        }
        return errors
    }

    /// Errors of a DNS-1035 label (service names): as a DNS-1123 label, starting with a letter.
    public static func dns1035LabelErrors(_ name: String) -> [String] {
        var errors = labelErrors(name)
        if errors.isEmpty, let first = name.utf8.first, !(UInt8(ascii: "a")...UInt8(ascii: "z")).contains(first) {
            errors.append("a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')")
        }
        return errors
    }

    static func isLabel(_ s: Substring) -> Bool {
        let bytes = Array(s.utf8)
        guard !bytes.isEmpty, bytes.count <= 63 else { return false }
        func alnum(_ b: UInt8) -> Bool { (0x61...0x7A).contains(b) || (0x30...0x39).contains(b) }
        return alnum(bytes.first!) && alnum(bytes.last!) && bytes.allSatisfy { alnum($0) || $0 == UInt8(ascii: "-") }
    }

    /// Errors of a qualified name (label and annotation keys): `[prefix/]name`, the prefix a
    /// DNS subdomain, the name at most 63 alphanumerics, '-', '_' or '.', alphanumeric at both ends.
    public static func labelKeyErrors(_ key: String) -> [String] {
        let parts = key.split(separator: "/", omittingEmptySubsequences: false)
        var errors: [String] = []
        let name: Substring
        if parts.count == 2 {
            if parts[0].isEmpty { errors.append("prefix part must be non-empty") }
            else if !subdomainErrors(String(parts[0])).isEmpty { errors.append("prefix part \(subdomainErrors(String(parts[0]))[0])") }
            name = parts[1]
        } else if parts.count == 1 {
            name = parts[0]
        } else {
            return ["a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"]
        }
        if name.isEmpty { errors.append("name part must be non-empty") }
        else if name.utf8.count > 63 { errors.append("name part must be no more than 63 characters") }
        else if !isQualifiedPart(name) {
            errors.append("name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')")
        }
        return errors
    }

    /// Errors of a label value: empty, or at most 63 alphanumerics, '-', '_' or '.',
    /// alphanumeric at both ends.
    public static func labelValueErrors(_ value: String) -> [String] {
        if value.isEmpty { return [] }
        if value.utf8.count > 63 { return ["must be no more than 63 characters"] }
        if !isQualifiedPart(Substring(value)) {
            return ["a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"]
        }
        return []
    }

    static func isQualifiedPart(_ s: Substring) -> Bool {
        let bytes = Array(s.utf8)
        guard let first = bytes.first, let last = bytes.last else { return false }
        func alnum(_ b: UInt8) -> Bool {
            (0x61...0x7A).contains(b) || (0x41...0x5A).contains(b) || (0x30...0x39).contains(b)
        }
        return alnum(first) && alnum(last) && bytes.allSatisfy { alnum($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") }
    }
}
