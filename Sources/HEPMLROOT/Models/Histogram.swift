import HEPMLCore

/// One histogram axis with its binning, title and optional bin labels.
public struct Axis: Sendable, Equatable {
    public var name: String
    public var title: String
    public var binCount: Int
    public var minimum: Double
    public var maximum: Double
    /// Variable bin edges (`binCount + 1` values), empty for uniform binning.
    public var variableEdges: [Double]
    /// Bin labels keyed by 1-based bin number.
    public var labels: [Int: String]

    public init(name: String = "xaxis", title: String = "", binCount: Int, minimum: Double, maximum: Double,
                variableEdges: [Double] = [], labels: [Int: String] = [:]) {
        self.name = name
        self.title = title
        self.binCount = binCount
        self.minimum = minimum
        self.maximum = maximum
        self.variableEdges = variableEdges
        self.labels = labels
    }

    /// Uniform or variable bin edges, `binCount + 1` values; uniform ones from
    /// `Binning.uniformEdges`, which gives ROOT's low edges and uproot's `edges()` exactly.
    public var edges: [Double] {
        if variableEdges.count == binCount + 1 { return variableEdges }
        return Binning.uniformEdges(count: binCount, lower: minimum, upper: maximum)
    }

    static func read(_ reader: inout ByteReader, references: ReferenceMap) throws -> Axis {
        let header = try reader.readVersionHeader("TAxis")
        let named = try reader.readTNamed()
        try reader.skipObject("TAttAxis")
        let binCount = try reader.readCount32(limit: 1 << 30, what: "TAxis fNbins")
        let minimum = try reader.readFloat64()
        let maximum = try reader.readFloat64()
        let edges = try reader.readTArrayD("TAxis fXbins")
        var labels: [Int: String] = [:]
        if header.version >= 9 {
            try reader.skip(4 + 4 + 2 + 1)  // fFirst, fLast, fBits2, fTimeDisplay
            _ = try reader.readTString()  // fTimeFormat
            if case .list(let items)? = try references.readObjectPointer(&reader) {
                for case .string(let uniqueID, let text)? in items { labels[Int(uniqueID)] = text }
            }
        }
        try reader.finishObject(end: header.end, "TAxis")
        return Axis(name: named.name, title: named.title, binCount: binCount, minimum: minimum, maximum: maximum,
                    variableEdges: edges, labels: labels)
    }
}

/// A TH1/TH2/TH3 (any storage flavour) or profile, with under- and overflow cells kept.
///
/// `contents` and `sumw2` use ROOT's global cell order: `ix + (nx+2)*(iy + (ny+2)*iz)`, with
/// index 0 the underflow and `n+1` the overflow of each axis (x fastest).
public struct Histogram: Sendable, Equatable {
    public var className: String
    public var name: String
    public var title: String
    public var dimension: Int
    public var xAxis: Axis
    public var yAxis: Axis
    public var zAxis: Axis
    /// Bin contents with flow cells (for profiles: the per-bin sum of weights times values).
    public var contents: [Double]
    /// Sum of squared weights per cell; empty when Sumw2 is off.
    public var sumw2: [Double]
    /// Profiles only: per-cell sum of weights (fBinEntries).
    public var binEntries: [Double]
    public var entries: Double
    /// fTsumw, fTsumw2, fTsumwx, fTsumwx2 (and, for 2D/3D, the y/z/cross sums after them).
    public var statistics: [Double]

    public init(className: String, name: String, title: String = "", xAxis: Axis, yAxis: Axis? = nil, zAxis: Axis? = nil,
                contents: [Double], sumw2: [Double] = [], entries: Double, statistics: [Double] = []) {
        self.className = className
        self.name = name
        self.title = title
        dimension = zAxis != nil ? 3 : (yAxis != nil ? 2 : 1)
        self.xAxis = xAxis
        self.yAxis = yAxis ?? Axis(name: "yaxis", binCount: 1, minimum: 0, maximum: 1)
        self.zAxis = zAxis ?? Axis(name: "zaxis", binCount: 1, minimum: 0, maximum: 1)
        self.contents = contents
        self.sumw2 = sumw2
        binEntries = []
        self.entries = entries
        self.statistics = statistics
    }

    /// Number of cells including flow: (nx+2), (nx+2)(ny+2) or (nx+2)(ny+2)(nz+2).
    /// Saturates at `Int.max` for absurd axes read from corrupted files, so comparisons fail safely.
    public var cellCount: Int {
        var count = xAxis.binCount + 2
        for axis in [yAxis, zAxis].prefix(dimension - 1) {
            let (product, overflow) = count.multipliedReportingOverflow(by: axis.binCount + 2)
            if overflow { return Int.max }
            count = product
        }
        return count
    }

    /// Variances with flow: sumw2 when stored, else the contents (Poisson).
    public var variances: [Double] { sumw2.count == contents.count ? sumw2 : contents }

    /// Contents without flow, flattened x-major (C order over (x, y, z)): for 2D the index of bin
    /// (ix, iy), both 0-based, is `ix * ny + iy`. This matches uproot's `values()` flattened with
    /// NumPy's default order, the convention of the DQM workflows.
    public var valuesWithoutFlow: [Double] { withoutFlow(contents) }

    /// Variances without flow, in the same order as `valuesWithoutFlow`.
    public var variancesWithoutFlow: [Double] { withoutFlow(variances) }

    private func withoutFlow(_ cells: [Double]) -> [Double] {
        let nx = xAxis.binCount, ny = dimension >= 2 ? yAxis.binCount : 1, nz = dimension >= 3 ? zAxis.binCount : 1
        let strideY = nx + 2, strideZ = (nx + 2) * (dimension >= 2 ? ny + 2 : 1)
        let offsetY = dimension >= 2 ? 1 : 0, offsetZ = dimension >= 3 ? 1 : 0
        guard cells.count == cellCount else { return [] }
        var result = [Double](repeating: 0, count: nx * ny * nz)
        cells.withUnsafeBufferPointer { source in
            result.withUnsafeMutableBufferPointer { target in
                var out = 0
                for ix in 0..<nx {
                    for iy in 0..<ny {
                        let rowBase = ix + 1 + (iy + offsetY) * strideY
                        for iz in 0..<nz {
                            target[out] = source[rowBase + (iz + offsetZ) * strideZ]
                            out += 1
                        }
                    }
                }
            }
        }
        return result
    }

    /// Profiles: mean per cell (contents / binEntries, 0 where empty).
    public var profileMeans: [Double] {
        guard binEntries.count == contents.count else { return [] }
        return zip(contents, binEntries).map { $1 == 0 ? 0 : $0 / $1 }
    }

    static func read(className: String, _ reader: inout ByteReader, references: ReferenceMap) throws -> Histogram {
        let isProfile = className.hasPrefix("TProfile")
        let dimension: Int
        switch className {
        case "TH1C", "TH1S", "TH1I", "TH1F", "TH1D", "TH1K", "TProfile": dimension = 1
        case "TH2C", "TH2S", "TH2I", "TH2F", "TH2D", "TProfile2D": dimension = 2
        case "TH3C", "TH3S", "TH3I", "TH3F", "TH3D", "TProfile3D": dimension = 3
        default: throw reader.error("\(className) is not a supported histogram class")
        }
        let storage: Character = isProfile ? "D" : (className == "TH1K" ? "F" : className.last ?? "D")
        let outer = try reader.readVersionHeader(className)
        var profileBase: (version: Int, end: Int?)?
        if isProfile { profileBase = try reader.readVersionHeader("TH\(dimension)D") }
        let dimensionHeader = dimension > 1 ? try reader.readVersionHeader("TH\(dimension)") : nil
        var histogram = try readTH1(&reader, references: references, className: className, dimension: dimension)
        if dimension == 2 {
            _ = try reader.readFloat64()  // fScalefactor
            for _ in 0..<3 { histogram.statistics.append(try reader.readFloat64()) }
        } else if dimension == 3 {
            try reader.skipObject("TAtt3D")
            for _ in 0..<7 { histogram.statistics.append(try reader.readFloat64()) }
        }
        try reader.finishObject(end: dimensionHeader?.end, "TH\(dimension)")
        let count = try reader.readCount32(limit: reader.remaining, what: "\(className) cell count")
        guard count == histogram.cellCount else {
            throw reader.error("\(className) stores \(count) cells, its axes need \(histogram.cellCount)")
        }
        histogram.contents = try readCells(&reader, storage: storage, count: count)
        if let profileBase {
            try reader.finishObject(end: profileBase.end, "TH\(dimension)D")
            histogram.binEntries = try reader.readTArrayD("fBinEntries")
        }
        try reader.finishObject(end: outer.end, className)
        return histogram
    }

    /// Decodes the big-endian TArray cells in one pass per storage type (the type switch stays
    /// outside the loop so each loop is a plain load-swap-convert over contiguous bytes).
    private static func readCells(_ reader: inout ByteReader, storage: Character, count: Int) throws -> [Double] {
        let width: Int
        switch storage {
        case "C": width = 1
        case "S": width = 2
        case "I", "F": width = 4
        default: width = 8
        }
        let start = reader.position
        try reader.skip(count * width)
        func convert<T: FixedWidthInteger>(_: T.Type, _ transform: (T) -> Double) -> [Double] {
            reader.bytes.withUnsafeBytes { raw in
                [Double](unsafeUninitializedCapacity: count) { out, initialized in
                    for i in 0..<count {
                        out[i] = transform(T(bigEndian: raw.loadUnaligned(fromByteOffset: start + i * width, as: T.self)))
                    }
                    initialized = count
                }
            }
        }
        switch storage {
        case "C": return convert(Int8.self) { Double($0) }
        case "S": return convert(Int16.self) { Double($0) }
        case "I": return convert(Int32.self) { Double($0) }
        case "F": return convert(UInt32.self) { Double(Float(bitPattern: $0)) }
        default: return convert(UInt64.self) { Double(bitPattern: $0) }
        }
    }

    /// The TH1 base: everything up to fFunctions; the rest is skipped by byte count.
    private static func readTH1(_ reader: inout ByteReader, references: ReferenceMap, className: String, dimension: Int) throws -> Histogram {
        let header = try reader.readVersionHeader("TH1")
        let named = try reader.readTNamed()
        try reader.skipObject("TAttLine")
        try reader.skipObject("TAttFill")
        try reader.skipObject("TAttMarker")
        _ = try reader.readInt32()  // fNcells, checked against the axes below
        let x = try Axis.read(&reader, references: references)
        let y = try Axis.read(&reader, references: references)
        let z = try Axis.read(&reader, references: references)
        try reader.skip(4)  // fBarOffset, fBarWidth
        let entries = try reader.readFloat64()
        var statistics: [Double] = []
        for _ in 0..<4 { statistics.append(try reader.readFloat64()) }
        try reader.skip(3 * 8)  // fMaximum, fMinimum, fNormFactor
        _ = try reader.readTArrayD("fContour")
        let sumw2 = try reader.readTArrayD("fSumw2")
        try reader.finishObject(end: header.end, "TH1")
        var histogram = Histogram(className: className, name: named.name, title: named.title, xAxis: x,
                                  yAxis: dimension >= 2 ? y : nil, zAxis: dimension >= 3 ? z : nil,
                                  contents: [], sumw2: sumw2, entries: entries, statistics: statistics)
        histogram.yAxis = y
        histogram.zAxis = z
        return histogram
    }
}
