import Foundation
import HEPMLCore

/// How to read a CSV file.
public struct CSVReadOptions: Sendable {
    public var hasHeader: Bool
    public var delimiter: UInt8
    /// Names for a file without a header row (default `column_0`, `column_1`, ...).
    public var columnNames: [String]?
    /// Explicit types by column name; other columns are inferred (int64, else float64, else bool,
    /// else string). A field that does not parse as its explicit type is an error.
    public var types: [String: ColumnType]

    public init(hasHeader: Bool = true, delimiter: UInt8 = UInt8(ascii: ","), columnNames: [String]? = nil, types: [String: ColumnType] = [:]) {
        self.hasHeader = hasHeader
        self.delimiter = delimiter
        self.columnNames = columnNames
        self.types = types
    }
}

/// CSV in the RFC 4180 dialect pandas writes: a delimiter, double-quoted fields with `""` escapes,
/// LF or CRLF line ends, blank lines skipped, empty unquoted fields read as null.
public enum CSV {
    public static func read(path: String, options: CSVReadOptions = CSVReadOptions()) throws -> Table {
        try decode(readFileBytes(path), file: path, options: options)
    }

    public static func decode(_ bytes: [UInt8], file: String, options: CSVReadOptions = CSVReadOptions()) throws -> Table {
        // Spreadsheet exports start with a UTF-8 byte-order mark, which is not part of the first name.
        let byteOrderMark: [UInt8] = [0xEF, 0xBB, 0xBF]
        let text = bytes.starts(with: byteOrderMark) ? Array(bytes.dropFirst(3)) : bytes
        let fields = try CSVFields(text, file: file, delimiter: options.delimiter)
        var firstRow = 0
        let names: [String]
        if options.hasHeader {
            guard fields.rowCount > 0 else { return try Table() }
            names = (0..<fields.width).map { fields.text(row: 0, column: $0) }
            firstRow = 1
        } else if let given = options.columnNames {
            guard given.count == fields.width || fields.rowCount == 0 else {
                throw FileFormatError(file: file, line: 1, reason: "\(given.count) column names given for \(fields.width) fields per row")
            }
            names = given
        } else {
            names = (0..<fields.width).map { "column_\($0)" }
        }
        for name in options.types.keys where !names.contains(name) {
            throw FileFormatError(file: file, reason: "explicit type given for column \(name), which the file does not have")
        }
        let rows = firstRow..<fields.rowCount
        let columns = try Parallel.map(names.count) { index in
            try fields.parseColumn(index, name: names[index], rows: rows, explicit: options.types[names[index]])
        }
        do {
            return try Table(columns: columns)
        } catch let error as TableError {
            throw FileFormatError(file: file, line: 1, reason: error.description)
        }
    }

    /// Writes scalar columns; list columns have no CSV form and are refused by name.
    public static func encode(_ table: Table, header: Bool = true, delimiter: UInt8 = UInt8(ascii: ",")) throws -> [UInt8] {
        for column in table.columns where column.type.listDepth > 0 {
            throw TableError("column \(column.name) is \(column.type); CSV holds scalar columns only")
        }
        var output: [UInt8] = []
        output.reserveCapacity(table.rowCount * table.columns.count * 8)
        func appendField(_ text: String) {
            let utf8 = Array(text.utf8)
            let needsQuotes = utf8.contains { $0 == delimiter || $0 == 0x22 || $0 == 0x0A || $0 == 0x0D }
            if needsQuotes {
                output.append(0x22)
                for byte in utf8 {
                    if byte == 0x22 { output.append(0x22) }
                    output.append(byte)
                }
                output.append(0x22)
            } else {
                output += utf8
            }
        }
        if header {
            for (i, column) in table.columns.enumerated() {
                if i > 0 { output.append(delimiter) }
                appendField(column.name)
            }
            output.append(0x0A)
        }
        for row in 0..<table.rowCount {
            for (i, column) in table.columns.enumerated() {
                if i > 0 { output.append(delimiter) }
                if column.isNull(row) { continue }
                switch column.values {
                case .bool(let v): output += Array((v[row] ? "True" : "False").utf8)
                case .int32(let v): output += Array(String(v[row]).utf8)
                case .int64(let v): output += Array(String(v[row]).utf8)
                case .float32(let v): output += Array(String(v[row]).utf8)
                case .float64(let v): output += Array(String(v[row]).utf8)
                case .string:
                    let text = column.values.string(at: row) ?? ""
                    // An empty string is quoted so that it reads back as "" rather than null.
                    if text.isEmpty { output += [0x22, 0x22] } else { appendField(text) }
                }
            }
            output.append(0x0A)
        }
        return output
    }

    public static func write(_ table: Table, to path: String, header: Bool = true) throws {
        try AtomicFile.write(encode(table, header: header), to: path)
    }
}

/// Field boundaries of a whole CSV file, found in one pass over the bytes. Columns are then parsed
/// independently (and in parallel) straight from the byte buffer.
struct CSVFields: @unchecked Sendable {
    let file: String
    /// The file bytes followed by a NUL, so `strtod` always stops inside the buffer.
    let bytes: [UInt8]
    let width: Int
    let rowCount: Int
    /// `rowCount * width` field starts and ends; a quoted field's range excludes the quotes and
    /// its `quoted` flag is set so that `""` escapes are undone when its text is needed.
    private var starts: [Int32]
    private var ends: [Int32]
    private var quoted: [Bool]
    /// Byte offset and 1-based line number where each row starts, for error positions.
    private var rowStart: [Int]
    private var rowLine: [Int]

    init(_ input: [UInt8], file: String, delimiter: UInt8) throws {
        guard input.count < Int(Int32.max) else { throw FileFormatError(file: file, reason: "CSV files over 2 GiB are not supported") }
        self.file = file
        var bytes = input
        bytes.append(0)
        self.bytes = bytes
        var starts: [Int32] = [], ends: [Int32] = [], quoted: [Bool] = []
        var rowStart: [Int] = [], rowLine: [Int] = []
        var width = -1
        var line = 1
        let count = input.count
        try bytes.withUnsafeBufferPointer { buffer in
            var position = 0
            while position < count {
                // Skip blank lines.
                if buffer[position] == 0x0A { position += 1; line += 1; continue }
                if buffer[position] == 0x0D, position + 1 < count, buffer[position + 1] == 0x0A { position += 2; line += 1; continue }
                let startLine = line
                rowStart.append(position)
                rowLine.append(line)
                var fieldsInRow = 0
                while true {
                    var fieldStart = position
                    var fieldEnd: Int
                    var isQuoted = false
                    if buffer[position] == 0x22 {
                        isQuoted = true
                        position += 1
                        fieldStart = position
                        while true {
                            guard position < count else {
                                throw FileFormatError(file: file, line: startLine, column: fieldStart - (rowStart.last ?? 0), reason: "unterminated quoted field")
                            }
                            let byte = buffer[position]
                            if byte == 0x22 {
                                if position + 1 < count, buffer[position + 1] == 0x22 { position += 2; continue }
                                break
                            }
                            if byte == 0x0A { line += 1 }
                            position += 1
                        }
                        fieldEnd = position
                        position += 1
                        let after = buffer[position]
                        guard position >= count || after == delimiter || after == 0x0A || after == 0x0D else {
                            throw FileFormatError(file: file, line: line, column: position - (rowStart.last ?? 0) + 1, reason: "unexpected character after closing quote")
                        }
                    } else {
                        while position < count {
                            let byte = buffer[position]
                            if byte == delimiter || byte == 0x0A || byte == 0x0D { break }
                            position += 1
                        }
                        fieldEnd = position
                    }
                    starts.append(Int32(fieldStart))
                    ends.append(Int32(fieldEnd))
                    quoted.append(isQuoted)
                    fieldsInRow += 1
                    if position < count, buffer[position] == delimiter { position += 1; continue }
                    break
                }
                if position < count, buffer[position] == 0x0D { position += 1 }
                if position < count, buffer[position] == 0x0A { position += 1; line += 1 }
                if width < 0 { width = fieldsInRow }
                guard fieldsInRow == width else {
                    throw FileFormatError(file: file, line: startLine, reason: "expected \(width) fields, found \(fieldsInRow)")
                }
            }
        }
        self.width = max(0, width)
        self.rowCount = rowStart.count
        self.starts = starts
        self.ends = ends
        self.quoted = quoted
        self.rowStart = rowStart
        self.rowLine = rowLine
    }

    func text(row: Int, column: Int) -> String {
        let index = row * width + column
        let slice = bytes[Int(starts[index])..<Int(ends[index])]
        if quoted[index] {
            var unescaped: [UInt8] = []
            var previousQuote = false
            for byte in slice {
                if byte == 0x22 && previousQuote { previousQuote = false; continue }
                previousQuote = byte == 0x22
                unescaped.append(byte)
            }
            return String(decoding: unescaped, as: UTF8.self)
        }
        return String(decoding: slice, as: UTF8.self)
    }

    /// Line and column (1-based, in bytes) of a field, counted from its row start.
    func error(row: Int, column: Int, _ reason: String) -> FileFormatError {
        let index = row * width + column
        var line = rowLine[row]
        var lineStart = rowStart[row]
        let fieldStart = Int(starts[index]) - (quoted[index] ? 1 : 0)
        for position in rowStart[row]..<fieldStart where bytes[position] == 0x0A {
            line += 1
            lineStart = position + 1
        }
        return FileFormatError(file: file, line: line, column: fieldStart - lineStart + 1, reason: reason)
    }

    private func isNull(_ index: Int) -> Bool { starts[index] == ends[index] && !quoted[index] }

    func parseColumn(_ column: Int, name: String, rows: Range<Int>, explicit: ColumnType?) throws -> Column {
        if let explicit {
            guard explicit.listDepth == 0 else { throw FileFormatError(file: file, reason: "column \(name): CSV columns are scalars, not \(explicit)") }
            switch explicit.element {
            case .int64:
                return try parseIntegers(column, name: name, rows: rows, strict: true).map { try Column(name: name, int64: $0.values, validity: $0.validity) } ?? Column(name: name, int64: [])
            case .int32:
                guard let parsed = try parseIntegers(column, name: name, rows: rows, strict: true) else { return try Column(name: name, int32: []) }
                var narrow = [Int32](repeating: 0, count: parsed.values.count)
                for (i, value) in parsed.values.enumerated() {
                    guard let small = Int32(exactly: value) else { throw error(row: rows.lowerBound + i, column: column, "value \(value) in column \(name) does not fit int32") }
                    narrow[i] = small
                }
                return try Column(name: name, int32: narrow, validity: parsed.validity)
            case .float64:
                let parsed = try parseDoubles(column, name: name, rows: rows, strict: true)
                return try Column(name: name, float64: parsed?.values ?? [], validity: parsed?.validity)
            case .float32:
                let parsed = try parseDoubles(column, name: name, rows: rows, strict: true)
                return try Column(name: name, float32: (parsed?.values ?? []).map { Float($0) }, validity: parsed?.validity)
            case .bool:
                let parsed = try parseBools(column, name: name, rows: rows, strict: true)
                return try Column(name: name, bool: parsed?.values ?? [], validity: parsed?.validity)
            case .string:
                return try strings(column, name: name, rows: rows)
            }
        }
        if let parsed = try parseIntegers(column, name: name, rows: rows, strict: false) {
            return try Column(name: name, int64: parsed.values, validity: parsed.validity)
        }
        if let parsed = try parseDoubles(column, name: name, rows: rows, strict: false) {
            return try Column(name: name, float64: parsed.values, validity: parsed.validity)
        }
        if let parsed = try parseBools(column, name: name, rows: rows, strict: false) {
            return try Column(name: name, bool: parsed.values, validity: parsed.validity)
        }
        return try strings(column, name: name, rows: rows)
    }

    private func strings(_ column: Int, name: String, rows: Range<Int>) throws -> Column {
        try Column(name: name, strings: rows.map { isNull($0 * width + column) ? nil : text(row: $0, column: column) })
    }

    /// Parses every field as an integer; returns nil at the first non-integer unless `strict`, in
    /// which case the field is reported.
    private func parseIntegers(_ column: Int, name: String, rows: Range<Int>, strict: Bool) throws -> (values: [Int64], validity: [Bool]?)? {
        var values = [Int64](repeating: 0, count: rows.count)
        var validity: [Bool]?
        let ok: Bool = bytes.withUnsafeBufferPointer { buffer in
            for (i, row) in rows.enumerated() {
                let index = row * width + column
                if isNull(index) {
                    if validity == nil { validity = [Bool](repeating: true, count: rows.count) }
                    validity?[i] = false
                    continue
                }
                var position = Int(starts[index])
                let end = Int(ends[index])
                var negative = false
                if buffer[position] == 0x2D || buffer[position] == 0x2B { negative = buffer[position] == 0x2D; position += 1 }
                guard position < end else { return false }
                var value: Int64 = 0
                while position < end {
                    let digit = Int64(buffer[position]) - 0x30
                    guard digit >= 0, digit <= 9 else { return false }
                    let (times10, o1) = value.multipliedReportingOverflow(by: 10)
                    let (next, o2) = negative ? times10.subtractingReportingOverflow(digit) : times10.addingReportingOverflow(digit)
                    guard !o1, !o2 else { return false }
                    value = next
                    position += 1
                }
                values[i] = value
            }
            return true
        }
        if ok { return (values, validity) }
        if strict { try reportFirstInvalid(column, name: name, rows: rows, type: "int64") { Int64($0) != nil } }
        return nil
    }

    private func parseDoubles(_ column: Int, name: String, rows: Range<Int>, strict: Bool) throws -> (values: [Double], validity: [Bool]?)? {
        var values = [Double](repeating: 0, count: rows.count)
        var validity: [Bool]?
        let ok: Bool = bytes.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return false }
            return base.withMemoryRebound(to: CChar.self, capacity: buffer.count) { text in
                for (i, row) in rows.enumerated() {
                    let index = row * width + column
                    if isNull(index) {
                        if validity == nil { validity = [Bool](repeating: true, count: rows.count) }
                        validity?[i] = false
                        continue
                    }
                    let start = Int(starts[index])
                    let first = buffer[start]
                    // strtod would skip leading blanks and accept hex; a CSV number starts with a sign, digit, dot or i/n (inf, nan).
                    guard first == 0x2D || first == 0x2B || first == 0x2E || (first >= 0x30 && first <= 0x39) || first | 0x20 == 0x69 || first | 0x20 == 0x6E else { return false }
                    var endPointer: UnsafeMutablePointer<CChar>?
                    let value = strtod(text + start, &endPointer)
                    guard let endPointer, UnsafePointer(endPointer) - text == Int(ends[index]) else { return false }
                    values[i] = value
                }
                return true
            }
        }
        if ok { return (values, validity) }
        if strict { try reportFirstInvalid(column, name: name, rows: rows, type: "float") { Double($0) != nil } }
        return nil
    }

    private func parseBools(_ column: Int, name: String, rows: Range<Int>, strict: Bool) throws -> (values: [Bool], validity: [Bool]?)? {
        var values = [Bool](repeating: false, count: rows.count)
        var validity: [Bool]?
        for (i, row) in rows.enumerated() {
            let index = row * width + column
            if isNull(index) {
                if validity == nil { validity = [Bool](repeating: true, count: rows.count) }
                validity?[i] = false
                continue
            }
            switch text(row: row, column: column).lowercased() {
            case "true": values[i] = true
            case "false": values[i] = false
            default:
                if strict { throw error(row: row, column: column, "field \(text(row: row, column: column).debugDescription) in column \(name) is not a bool") }
                return nil
            }
        }
        return (values, validity)
    }

    private func reportFirstInvalid(_ column: Int, name: String, rows: Range<Int>, type: String, isValid: (String) -> Bool) throws {
        for row in rows where !isNull(row * width + column) {
            let field = text(row: row, column: column)
            if !isValid(field) { throw error(row: row, column: column, "field \(field.debugDescription) in column \(name) is not a valid \(type)") }
        }
        throw FileFormatError(file: file, reason: "column \(name) does not parse as \(type)")
    }
}
