/// An INSERT that takes several rows of values in one statement, so that a statement's own cost (a cursor
/// opened and closed for the table and each index, a step, a reset) is paid once for many rows. Statements come
/// in the sizes ``rowCounts``, so the writer's statement cache holds three per use, not one per row count.
package struct MultiRowSQL: Sendable {
    /// Rows one statement takes, largest first.
    package static let rowCounts = [32, 8, 1]

    /// The values one row binds.
    package let columns: Int32
    private let statements: [(rows: Int, sql: String)]

    /// `head` ends with `VALUES `; `tail` (an `ON CONFLICT` or `RETURNING` clause) follows the rows.
    package init(_ head: String, columns: Int32, tail: String = "") {
        self.columns = columns
        let row = "(" + Array(repeating: "?", count: Int(columns)).joined(separator: ", ") + ")"
        statements = Self.rowCounts.map { rows in
            (rows, head + Array(repeating: row, count: rows).joined(separator: ", ") + (tail.isEmpty ? "" : "\n" + tail))
        }
    }

    /// How many of `remaining` rows the next statement takes.
    package static func rows(for remaining: Int) -> Int { rowCounts.first { $0 <= remaining } ?? 1 }

    /// The statement for `rows` rows, one of ``rowCounts``.
    package func sql(rows: Int) -> String {
        guard let statement = statements.first(where: { $0.rows == rows }) else { preconditionFailure("\(rows) is not one of \(Self.rowCounts)") }
        return statement.sql
    }
}
