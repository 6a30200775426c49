import Foundation

/// One monitored histogram of one run, as the fetch step fills it and the workflow consumes it.
///
/// Contents never include under/overflow (AutoDQM_ML reads uproot's `values()`), and a 2D
/// histogram is stored flattened row-major with `index = ix * ny + iy`, the layout every
/// AutoDQM_ML algorithm sees after flattening, so the Parquet list columns and the models agree.
public struct DQMHistogram: Sendable, Equatable {
    /// Bin edges of the x axis (`nx + 1` values).
    public private(set) var xEdges: [Double]
    /// Bin edges of the y axis for a 2D histogram, nil for 1D.
    public private(set) var yEdges: [Double]?
    public var contents: [Double]

    public var xBinCount: Int { xEdges.count - 1 }
    public var yBinCount: Int { (yEdges?.count ?? 2) - 1 }
    public var isTwoDimensional: Bool { yEdges != nil }
    /// `[nx]` or `[nx, ny]`, the shape of the Parquet list column and of the autoencoder input.
    public var shape: [Int] { isTwoDimensional ? [xBinCount, yBinCount] : [xBinCount] }
    /// Sum of bin contents, the "number of entries" AutoDQM_ML normalizes by and cuts on.
    public var entries: Double { contents.reduce(0, +) }

    /// A histogram from already flow-free contents; throws when the sizes do not match the edges
    /// so that a malformed object never produces an out-of-bounds read later.
    public init(xEdges: [Double], yEdges: [Double]? = nil, contents: [Double]) throws {
        guard xEdges.count >= 2, yEdges.map({ $0.count >= 2 }) ?? true else {
            throw DQMError.invalidHistogram("an axis needs at least two bin edges")
        }
        let expected = (xEdges.count - 1) * ((yEdges?.count ?? 2) - 1)
        guard contents.count == expected else {
            throw DQMError.invalidHistogram("\(contents.count) bin contents for \(expected) bins")
        }
        self.xEdges = xEdges
        self.yEdges = yEdges
        self.contents = contents
    }

    /// A histogram from ROOT's in-memory storage, which includes the flow bins and runs x fastest
    /// (index `ix + (nx + 2) * iy`, flow at 0 and n + 1). The flow bins are dropped and a 2D array
    /// is transposed to the row-major `[ix][iy]` layout.
    public init(rootStorage storage: [Double], xEdges: [Double], yEdges: [Double]? = nil) throws {
        guard xEdges.count >= 2, yEdges.map({ $0.count >= 2 }) ?? true else {
            throw DQMError.invalidHistogram("an axis needs at least two bin edges")
        }
        let nx = xEdges.count - 1
        guard let yEdges else {
            guard storage.count == nx + 2 else {
                throw DQMError.invalidHistogram("\(storage.count) stored bins for \(nx) bins plus flow")
            }
            try self.init(xEdges: xEdges, contents: Array(storage[1...nx]))
            return
        }
        let ny = yEdges.count - 1
        guard storage.count == (nx + 2) * (ny + 2) else {
            throw DQMError.invalidHistogram("\(storage.count) stored bins for \(nx)×\(ny) bins plus flow")
        }
        var flat = [Double](repeating: 0, count: nx * ny)
        for ix in 0..<nx {
            for iy in 0..<ny {
                flat[ix * ny + iy] = storage[(ix + 1) + (nx + 2) * (iy + 1)]
            }
        }
        try self.init(xEdges: xEdges, yEdges: yEdges, contents: flat)
    }
}

/// Where a monitored histogram lives: in the DQM file and as a column of the fetched table.
public struct DQMHistogramPath: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Top-level DQM folder, e.g. `L1T` (the key of the contents JSON).
    public var subsystem: String
    /// The path inside the subsystem folder as written in the contents JSON, usually
    /// `/Run summary/<folder>/<name>`.
    public var entry: String

    public init(subsystem: String, entry: String) {
        self.subsystem = subsystem
        self.entry = entry
    }

    /// `<subsystem>/<entry>` verbatim, doubled slash included, because that is the column name
    /// AutoDQM_ML users and their `--histograms` lists already use.
    public var columnName: String { subsystem + "/" + entry }
    public var description: String { columnName }

    /// The object's path in a DQM file, `DQMData/Run N/<subsystem>/Run summary/...`, with the
    /// empty components of a doubled slash collapsed (ROOT directories have no empty names).
    public func objectPath(run: Int) -> String {
        var path = "DQMData/Run \(run)"
        for component in columnName.split(separator: "/") {
            path += "/"
            path += component
        }
        return path
    }

    /// The column name without `/` and spaces: AutoDQM_ML's stem for model files.
    public var sanitizedName: String {
        columnName.replacingOccurrences(of: "/", with: "").replacingOccurrences(of: " ", with: "")
    }

    public static func < (lhs: DQMHistogramPath, rhs: DQMHistogramPath) -> Bool {
        (lhs.subsystem, lhs.entry) < (rhs.subsystem, rhs.entry)
    }
}

/// Errors of the DQM workflow that are not about a malformed file's bytes.
public enum DQMError: Error, CustomStringConvertible, Equatable, Sendable {
    case invalidHistogram(String)
    case invalidConfiguration(String)
    case insufficientData(String)
    case numerical(String)

    public var description: String {
        switch self {
        case .invalidHistogram(let reason): return "invalid histogram: \(reason)"
        case .invalidConfiguration(let reason): return "invalid configuration: \(reason)"
        case .insufficientData(let reason): return "insufficient data: \(reason)"
        case .numerical(let reason): return "numerical failure: \(reason)"
        }
    }
}
