import CSQLite
import Foundation

/// An SQLite error with the statement or file it came from.
public struct SQLiteError: Error, CustomStringConvertible {
    public var description: String
    init(_ context: String, _ database: OpaquePointer?) {
        description = "\(context): \(database.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open")"
    }
}

/// One SQLite connection over the C API. Not thread-safe: its owner serializes the calls
/// (the ingestion worker owns the writer, a lock guards the reader).
final class SQLiteConnection {
    let handle: OpaquePointer
    let path: String

    init(path: String, readOnly: Bool = false) throws {
        var handle: OpaquePointer?
        let flags = (readOnly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)) | SQLITE_OPEN_NOMUTEX
        guard sqlite3_open_v2(path, &handle, flags, nil) == SQLITE_OK, let handle else {
            let error = SQLiteError("cannot open \(path)", handle)
            sqlite3_close_v2(handle)
            throw error
        }
        self.handle = handle
        self.path = path
        // A reader waits for the writer's checkpoint instead of failing with SQLITE_BUSY.
        sqlite3_busy_timeout(handle, 5000)
    }

    deinit { sqlite3_close_v2(handle) }

    func execute(_ sql: String) throws {
        guard sqlite3_exec(handle, sql, nil, nil, nil) == SQLITE_OK else { throw SQLiteError("\(path): \(sql.prefix(60))", handle) }
    }

    func prepare(_ sql: String) throws -> SQLiteStatement { try SQLiteStatement(connection: self, sql: sql) }

    /// Runs `body` in one transaction: committed when it returns, rolled back when it throws.
    func transaction<T>(_ body: () throws -> T) throws -> T {
        try execute("BEGIN IMMEDIATE")
        do {
            let value = try body()
            try execute("COMMIT")
            return value
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }
}

/// A prepared statement, reset and rebound for every use.
final class SQLiteStatement {
    private let statement: OpaquePointer
    private let connection: SQLiteConnection
    private let sql: String

    init(connection: SQLiteConnection, sql: String) throws {
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(connection.handle, sql, -1, &statement, nil) == SQLITE_OK, let statement else {
            throw SQLiteError("\(connection.path): cannot prepare \(sql.prefix(60))", connection.handle)
        }
        self.statement = statement
        self.connection = connection
        self.sql = sql
    }

    deinit { sqlite3_finalize(statement) }

    enum Value {
        case integer(Int), real(Double), text(String), floats([Float]), null
    }

    /// Resets the statement and binds `values` to its parameters 1…n.
    @discardableResult
    func bind(_ values: [Value]) throws -> SQLiteStatement {
        sqlite3_reset(statement)
        sqlite3_clear_bindings(statement)
        // SQLITE_TRANSIENT: SQLite copies the bytes before the call returns.
        let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
        for (offset, value) in values.enumerated() {
            let index = Int32(offset + 1)
            let code: Int32
            switch value {
            case .integer(let number): code = sqlite3_bind_int64(statement, index, Int64(number))
            case .real(let number): code = sqlite3_bind_double(statement, index, number)
            case .text(let text): code = sqlite3_bind_text(statement, index, text, -1, transient)
            case .floats(let floats): code = floats.withUnsafeBytes { sqlite3_bind_blob(statement, index, $0.baseAddress, Int32($0.count), transient) }
            case .null: code = sqlite3_bind_null(statement, index)
            }
            guard code == SQLITE_OK else { throw SQLiteError("\(connection.path): binding parameter \(index) of \(sql.prefix(60))", connection.handle) }
        }
        return self
    }

    /// Steps once: true when a row is ready, false when the statement is done.
    func step() throws -> Bool {
        switch sqlite3_step(statement) {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default: throw SQLiteError("\(connection.path): \(sql.prefix(60))", connection.handle)
        }
    }

    /// Runs a statement that returns no rows.
    func run(_ values: [Value]) throws {
        try bind(values)
        while try step() {}
    }

    /// Every row of the statement, each turned into a value by `row`.
    func rows<T>(_ values: [Value], _ row: (SQLiteStatement) throws -> T) throws -> [T] {
        try bind(values)
        var result: [T] = []
        while try step() { result.append(try row(self)) }
        return result
    }

    func integer(_ column: Int32) -> Int { Int(sqlite3_column_int64(statement, column)) }
    func real(_ column: Int32) -> Double { sqlite3_column_double(statement, column) }
    func text(_ column: Int32) -> String { sqlite3_column_text(statement, column).map { String(cString: $0) } ?? "" }
    func isNull(_ column: Int32) -> Bool { sqlite3_column_type(statement, column) == SQLITE_NULL }

    /// A float32 blob column (native byte order, as written by `.floats`).
    func floats(_ column: Int32) -> [Float] {
        let count = Int(sqlite3_column_bytes(statement, column)) / MemoryLayout<Float>.size
        guard count > 0, let bytes = sqlite3_column_blob(statement, column) else { return [] }
        return [Float](UnsafeBufferPointer(start: bytes.assumingMemoryBound(to: Float.self), count: count))
    }
}
