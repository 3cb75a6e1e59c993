import Foundation

/// kube-apiserver's checks of ConfigMap and Secret data: every key a valid config key, no key
/// in both `data` and `binaryData`, and at most 1 MiB of values in all.
enum ConfigDataValidation {
    static let maximumBytes = 1 << 20

    /// The problems of a key (kube-apiserver's `IsConfigMapKey`).
    static func keyErrors(_ key: String) -> [String] {
        var errors: [String] = []
        if key.utf8.count > 253 { errors.append("must be no more than 253 characters") }
        let allowed = key.utf8.allSatisfy { c in
            (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z"))
                || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) || c == UInt8(ascii: "-") || c == UInt8(ascii: "_") || c == UInt8(ascii: ".")
        }
        if key.isEmpty || !allowed {
            errors.append("a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')")
        }
        if key == "." { errors.append("must not be '.'") }
        else if key == ".." { errors.append("must not be '..'") }
        else if key.hasPrefix("..") { errors.append("must not start with '..'") }
        return errors
    }

    /// The problems of the maps `fields` of an object; `decodedSize` gives a value's size in bytes.
    static func causes(_ object: JSON, fields: [String], kind: String) -> [StatusError.Cause] {
        var causes: [StatusError.Cause] = []
        var total = 0
        var seen: Set<String> = []
        for field in fields {
            for (key, value) in object[field]?.objectValue ?? [:] {
                for error in keyErrors(key) {
                    causes.append(.init(field: "\(field)[\(key)]", message: "Invalid value: \"\(key)\": \(error)"))
                }
                if !seen.insert(key).inserted {
                    causes.append(.init(field: "\(field)[\(key)]", message: "Invalid value: \"\(key)\": duplicate of key present in \(fields[0])"))
                }
                let text = value.stringValue ?? ""
                // Binary values travel as base64: count the bytes they stand for.
                total += field == "data" && kind == "ConfigMap" ? text.utf8.count : text.utf8.count / 4 * 3
            }
        }
        if total > maximumBytes {
            causes.append(.init(field: fields.count > 1 ? "" : fields[0], type: "FieldValueTooLong",
                                message: "Too long: may not be more than \(maximumBytes) bytes"))
        }
        return causes
    }
}
