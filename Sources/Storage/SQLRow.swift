/// One row of a query result: its values in column order.
public struct SQLRow: Sendable, Hashable {
    /// The row's values, in the order of the query's result columns.
    public var values: [SQLValue]

    public init(_ values: [SQLValue]) {
        self.values = values
    }

    /// The value of column `index`.
    public subscript(_ index: Int) -> SQLValue { values[index] }

    /// Column `index` as an integer; `NULL` and non-integers read as 0.
    public func int(_ index: Int) -> Int64 { values[index].integer ?? 0 }

    /// Column `index` as bytes, or `nil` when it is `NULL`.
    public func bytes(_ index: Int) -> [UInt8]? { values[index].bytes }
}
