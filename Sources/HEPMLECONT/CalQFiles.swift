import Foundation
import HEPMLColumnar
import HEPMLCore

/// Reading CALQ CSV files (Ecoder `load_data`) into `ModuleCharges`.
public enum CalQFiles {
    /// The plain files named by `paths`: files as given, directories expanded to their regular
    /// `.csv` files (not recursive, sorted by name so that runs are reproducible; a README or
    /// other notes next to the data are not data). A directory without one is an error that
    /// says what it holds.
    public static func expand(_ paths: [String]) throws -> [String] {
        var files: [String] = []
        let manager = FileManager.default
        for path in paths {
            var isDirectory: ObjCBool = false
            guard manager.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw FileFormatError(file: path, reason: "no such file or directory")
            }
            if isDirectory.boolValue {
                let names = try manager.contentsOfDirectory(atPath: path).sorted()
                let before = files.count
                var others: [String] = []
                for name in names where !name.hasPrefix(".") {
                    let full = (path as NSString).appendingPathComponent(name)
                    var nested: ObjCBool = false
                    if name.lowercased().hasSuffix(".csv"), manager.fileExists(atPath: full, isDirectory: &nested), !nested.boolValue {
                        files.append(full)
                    } else {
                        others.append(name)
                    }
                }
                guard files.count > before else {
                    let held = others.isEmpty ? "it is empty" : "it holds \(others.prefix(5).joined(separator: ", "))\(others.count > 5 ? " and \(others.count - 5) more" : "")"
                    throw FileFormatError(file: path, reason: "no .csv file of CALQ charges in this directory (\(held))")
                }
            } else {
                files.append(path)
            }
        }
        return files
    }

    /// The 48 charges of the first `rowsPerFile` rows of each file, concatenated. With a header
    /// the columns `CALQ_0…CALQ_47` are selected by name; without one the first 48 columns are
    /// the charges and every row is data (upstream drops the first row of each file).
    public static func read(_ paths: [String], header: Bool, rowsPerFile: Int) throws -> ModuleCharges {
        var values: [Double] = []
        for file in try expand(paths) {
            let table = try CSV.read(path: file, options: CSVReadOptions(hasHeader: header))
            let names = header ? (0..<triggerCellCount).map { "CALQ_\($0)" } : Array(table.columnNames.prefix(triggerCellCount))
            guard names.count == triggerCellCount else {
                throw FileFormatError(file: file, line: 1, reason: "expected at least 48 columns, found \(table.columnNames.count)")
            }
            let rows = min(table.rowCount, max(0, rowsPerFile))
            var columns: [[Double]] = []
            for name in names {
                guard let column = table[name] else {
                    throw FileFormatError(file: file, line: 1, reason: "missing column \(name) (use --no-header for files without a header)")
                }
                if column.nullCount > 0 {
                    throw FileFormatError(file: file, object: name, reason: "column has empty fields")
                }
                switch column.values {
                case .int64(let v): columns.append(v.prefix(rows).map(Double.init))
                case .int32(let v): columns.append(v.prefix(rows).map(Double.init))
                case .float64(let v): columns.append(Array(v.prefix(rows)))
                case .float32(let v): columns.append(v.prefix(rows).map(Double.init))
                default: throw FileFormatError(file: file, object: name, reason: "column is \(column.type), not numeric")
                }
            }
            let start = values.count
            values += [Double](repeating: 0, count: rows * triggerCellCount)
            for (cell, column) in columns.enumerated() {
                for row in 0..<rows {
                    guard column[row].isFinite, column[row] >= 0 else {
                        throw FileFormatError(file: file, object: names[cell], line: row + (header ? 2 : 1),
                                              reason: "charge \(column[row]) is not a finite non-negative number")
                    }
                    values[start + row * triggerCellCount + cell] = column[row]
                }
            }
        }
        guard let modules = ModuleCharges(values: values) else {
            throw FileFormatError(file: paths.joined(separator: ","), reason: "internal: charges are not a multiple of 48")
        }
        return modules
    }
}
