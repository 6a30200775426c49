import Foundation
import HEPMLColumnar
import HEPMLCore
import HEPMLROOT

/// How a variable was stored in its source, so that decompression writes it back the same way.
public enum StoredType: String, Codable, Sendable, CaseIterable {
    case float32, float64, int32, int64

    public var byteCount: Int { self == .float32 || self == .int32 ? 4 : 8 }

    /// `value` as this type would hold it (rounded for integers, float32 rounding for float32).
    @inline(__always)
    public func representable(_ value: Double) -> Double {
        switch self {
        case .float32: return Double(Float(value))
        case .float64: return value
        case .int32: return value.isFinite ? min(max(value.rounded(), Double(Int32.min)), Double(Int32.max)) : 0
        case .int64: return value.isFinite ? min(max(value.rounded(), -9.0e18), 9.0e18) : 0
        }
    }
}

/// One per-object variable: its branch or column name, its stored type, and its values for every
/// object (in Double, which holds every float32, float64 and int32 value exactly).
public struct ObjectVariable: Sendable, Equatable {
    public var name: String
    public var type: StoredType
    public var values: [Double]

    public init(name: String, type: StoredType, values: [Double]) {
        self.name = name
        self.type = type
        self.values = values
    }
}

/// Per-object variables of many events, flattened to one row per object, with what restores
/// the event structure: the per-event offsets into the objects (nil when every entry is one
/// object, e.g. flat branches or leading-object mode), and columns kept losslessly beside the
/// compressed variables (per-event values such as the PhenoML event weight, or per-object ones
/// such as its object type), one row per event.
public struct ObjectData: Sendable, Equatable {
    public var variables: [ObjectVariable]
    public var eventOffsets: [Int]?
    /// The ROOT counter branch of jagged variables (`nJet`), written back on decompression.
    public var counterName: String?
    public var kept: [Column]

    public init(variables: [ObjectVariable], eventOffsets: [Int]?, counterName: String? = nil, kept: [Column] = []) {
        self.variables = variables
        self.eventOffsets = eventOffsets
        self.counterName = counterName
        self.kept = kept
    }

    public var objectCount: Int { variables.first?.values.count ?? 0 }
    public var eventCount: Int { eventOffsets.map { $0.count - 1 } ?? objectCount }
    public var variableNames: [String] { variables.map(\.name) }

    /// Objects per event.
    public var counts: [Int] {
        guard let offsets = eventOffsets else { return [Int](repeating: 1, count: objectCount) }
        return zip(offsets.dropFirst(), offsets).map { $0 - $1 }
    }

    /// The event of each object.
    public var eventOfObject: [Int] {
        guard let offsets = eventOffsets else { return Array(0..<objectCount) }
        var result = [Int](repeating: 0, count: objectCount)
        for event in 0..<(offsets.count - 1) {
            for object in offsets[event]..<offsets[event + 1] { result[object] = event }
        }
        return result
    }

    /// Row-major `objects × variables` matrix.
    public func matrix() -> [Double] {
        let width = variables.count, rows = objectCount
        var out = [Double](repeating: 0, count: rows * width)
        for (column, variable) in variables.enumerated() {
            variable.values.withUnsafeBufferPointer { values in
                for row in 0..<rows { out[row * width + column] = values[row] }
            }
        }
        return out
    }

    /// Only the first object of each event that has one (the upstream `leading_only` mode):
    /// the result is flat, and per-object kept columns keep their first item.
    public func leadingObjects() throws -> ObjectData {
        guard let offsets = eventOffsets else { return self }
        let events = (0..<(offsets.count - 1)).filter { offsets[$0 + 1] > offsets[$0] }
        let firsts = events.map { offsets[$0] }
        let variables = self.variables.map { variable in ObjectVariable(name: variable.name, type: variable.type, values: firsts.map { variable.values[$0] }) }
        return ObjectData(variables: variables, eventOffsets: nil, counterName: nil, kept: [])
    }

    /// Checks that every value is finite, naming `file`, the variable, and the event and object.
    public func checkFinite(file: String) throws {
        let eventOf = eventOffsets == nil ? nil : eventOfObject
        for variable in variables {
            if let bad = variable.values.firstIndex(where: { !$0.isFinite }) {
                let place = eventOf.map { "object \(bad) (event \($0[bad]))" } ?? "entry \(bad)"
                throw FileFormatError(file: file, object: variable.name, reason: "\(place) is \(variable.values[bad]); only finite values can be compressed")
            }
        }
    }
}

/// Where per-object variables come from and how they are read.
public struct ObjectSource: Codable, Equatable, Sendable {
    /// A ROOT file, a Parquet/CSV table, or a PhenoML/DarkMachines line-format file.
    public var path: String
    /// The tree of a ROOT file ("Events", "events", "CollectionTree").
    public var tree: String?
    /// Branch or column names; ROOT accepts wildcards (`Jet_*`). Empty: every numeric column of a
    /// table (a ROOT file needs a selection).
    public var branches: [String]
    /// Keep only the first object of each event.
    public var leadingOnly: Bool

    public init(path: String, tree: String? = nil, branches: [String] = [], leadingOnly: Bool = false) {
        self.path = path
        self.tree = tree
        self.branches = branches
        self.leadingOnly = leadingOnly
    }

    /// What `read()` found besides the data: the bytes the selected columns take in the source
    /// (compressed, as stored), for honest size comparisons.
    public struct Reading: Sendable {
        public var data: ObjectData
        public var storedBytes: Int
    }

    /// Reads the source. Variables of one object must share the event structure: jagged branches
    /// with different per-event counts, or flat and jagged branches mixed, are errors naming the
    /// file and branch; non-finite values are errors naming the variable and object.
    public func read() throws -> Reading {
        var reading: Reading
        let lower = path.lowercased()
        if lower.hasSuffix(".root") {
            reading = try readROOT()
        } else if try PhenoMLFormat.detect(path: path) {
            let data = try PhenoMLFormat.read(path: path)
            reading = Reading(data: try branches.isEmpty ? data : Self.selecting(branches, in: data, file: path), storedBytes: Self.fileSize(path))
        } else {
            let table = try TableFile.read(path: path, columns: branches.isEmpty ? nil : branches)
            let numeric = branches.isEmpty ? table.columns.filter { $0.values.scalarType.isNumeric } : table.columns
            reading = Reading(data: try Self.objects(from: numeric, file: path, counterName: nil), storedBytes: Self.fileSize(path))
        }
        if leadingOnly { reading.data = try reading.data.leadingObjects() }
        try reading.data.checkFinite(file: path)
        return reading
    }

    static func fileSize(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
    }

    static func selecting(_ names: [String], in data: ObjectData, file: String) throws -> ObjectData {
        var result = data
        result.variables = try names.map { name in
            guard let variable = data.variables.first(where: { $0.name == name }) else {
                throw FileFormatError(file: file, object: name, reason: "no such variable (the file has \(data.variableNames.joined(separator: ", ")))")
            }
            return variable
        }
        return result
    }

    private func readROOT() throws -> Reading {
        guard let treePath = tree else { throw FileFormatError(file: path, reason: "a ROOT input needs --tree") }
        guard !branches.isEmpty else { throw FileFormatError(file: path, object: treePath, reason: "a ROOT input needs --branches (wildcards allowed)") }
        let file = try ROOTFile(path: path)
        let tree = try file.tree(treePath)
        let selected = try tree.branches(matching: branches)
        let table = try tree.table(branches: selected.map(tree.displayName)).table
        let counter = selected.lazy.compactMap { $0.leaves.first?.counter?.name }.first
        var stored = selected.reduce(0) { $0 + $1.zippedBytes }
        if let counter, let counterBranch = tree.allBranches.first(where: { $0.name == counter }) { stored += counterBranch.zippedBytes }
        return Reading(data: try Self.objects(from: table.columns, file: path, treePath: treePath, counterName: counter), storedBytes: stored)
    }

    /// Table columns (scalar, or one list level with the same offsets in all) as objects.
    static func objects(from columns: [Column], file: String, treePath: String? = nil, counterName: String?) throws -> ObjectData {
        func fail(_ column: Column, _ reason: String) -> FileFormatError {
            FileFormatError(file: file, object: treePath.map { "\($0)/\(column.name)" } ?? column.name, reason: reason)
        }
        guard let first = columns.first else { throw FileFormatError(file: file, reason: "no variables selected") }
        var variables: [ObjectVariable] = []
        let offsets = first.listOffsets.first
        for column in columns {
            guard column.nullCount == 0 else { throw fail(column, "has \(column.nullCount) missing values") }
            guard column.listOffsets.count == first.listOffsets.count, column.listOffsets.count <= 1 else {
                throw fail(column, "is \(column.type) while \(first.name) is \(first.type); the variables of one object must have the same structure")
            }
            if let offsets, let own = column.listOffsets.first, own != offsets {
                let entry = zip(own, offsets).enumerated().first { $0.element.0 != $0.element.1 }.map { $0.offset - 1 } ?? 0
                let ownCount = entry + 1 < own.count ? own[entry + 1] - own[entry] : -1
                let firstCount = entry + 1 < offsets.count ? offsets[entry + 1] - offsets[entry] : -1
                throw fail(column, "has \(ownCount) objects in entry \(entry) where \(first.name) has \(firstCount); the variables of one object must have the same lengths")
            }
            guard let values = column.values.doubles, let type = StoredType(rawValue: column.values.scalarType.rawValue) else {
                throw fail(column, "holds \(column.values.scalarType), not numbers")
            }
            variables.append(ObjectVariable(name: column.name, type: type, values: values))
        }
        return ObjectData(variables: variables, eventOffsets: offsets, counterName: offsets == nil ? nil : counterName)
    }
}
