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
    /// Stored cells with flow (fArray): for histograms the bin contents, for profiles the per-bin
    /// Σw·y (`binValues` gives what ROOT's GetBinContent returns for both).
    public var contents: [Double]
    /// Sum of squared weights per cell (profiles: Σw·y²); empty when Sumw2 is off.
    public var sumw2: [Double]
    /// Profiles only: per-cell sum of weights (fBinEntries).
    public var binEntries: [Double]
    /// Profiles only: per-cell sum of squared weights (fBinSumw2), empty for unweighted fills.
    public var binSumw2: [Double]
    /// Profiles only: how bin errors are computed (fErrorMode, the option of TProfile::SetErrorOption).
    public var errorOption: ProfileErrorOption
    /// Profiles only: fYmin, fYmax, fTsumwy, fTsumwy2 (z for TProfile2D, t for TProfile3D).
    public var profileStatistics: [Double]
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
        binSumw2 = []
        errorOption = .mean
        profileStatistics = []
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

    public var isProfile: Bool { className.hasPrefix("TProfile") }

    /// What ROOT's GetBinContent returns per cell, with flow: the contents, or for profiles the bin
    /// means Σw·y / Σw (0 for empty bins).
    public var binValues: [Double] {
        guard isProfile else { return contents }
        guard binEntries.count == contents.count else { return [] }
        return zip(contents, binEntries).map { $1 == 0 ? 0 : $0 / $1 }
    }

    /// What ROOT's GetBinError returns per cell, with flow: √sumw2 (√|content| without Sumw2), or
    /// for profiles the error of the error option (TProfileHelper::GetBinError without the
    /// global `fgApproximate` switch, which is off by default): the error on the mean (default),
    /// the spread (`s`), the spread over √neff or 1/√(12 neff) for integer data (`i`), or 1/√Σw (`g`).
    public var binErrors: [Double] {
        guard isProfile else { return variances.map { $0.magnitude.squareRoot() } }
        guard binEntries.count == contents.count else { return [] }
        let weighted = binSumw2.count == contents.count
        return contents.indices.map { cell in
            let sum = binEntries[cell]
            guard sum != 0 else { return 0 }
            if errorOption == .spreadG { return 1 / sum.magnitude.squareRoot() }
            let mean = contents[cell] / sum
            let sumOfSquares = sumw2.count == contents.count ? sumw2[cell] : 0
            let spread = (sumOfSquares / sum - mean * mean).magnitude.squareRoot()
            // Effective entries (Σw)²/Σw² when weighted, else Σw.
            let effective = weighted ? (binSumw2[cell] > 0 ? sum * sum / binSumw2[cell] : 0) : sum
            switch errorOption {
            case .spread: return spread
            case .spreadI:
                if spread != 0 { return spread / effective.squareRoot() }
                return 1 / (12 * effective).squareRoot()
            case .mean, .spreadG: return spread / effective.squareRoot()
            }
        }
    }

    /// Variances with flow: sumw2 when stored, else the contents (Poisson); for profiles the
    /// squares of `binErrors`, as uproot's `variances()`.
    public var variances: [Double] {
        if isProfile { return binErrors.map { $0 * $0 } }
        return sumw2.count == contents.count ? sumw2 : contents
    }

    /// `binValues` without flow, flattened x-major (C order over (x, y, z)): for 2D the index of
    /// bin (ix, iy), both 0-based, is `ix * ny + iy`. This matches uproot's `values()` flattened
    /// with NumPy's default order, the convention of the DQM workflows.
    public var valuesWithoutFlow: [Double] { withoutFlow(binValues) }

    /// Variances without flow, in the same order as `valuesWithoutFlow`.
    public var variancesWithoutFlow: [Double] { withoutFlow(variances) }

    /// ROOT's TH3::ProjectionX/Y/Z (axis 0, 1, 2) with its default range: the contents of each bin
    /// of `axis` summed over the regular bins of the other two axes (flow excluded), and the
    /// variances summed alike. Nil unless this is a TH3 (profiles project to other quantities).
    public func projection(onto axis: Int) -> (values: [Double], variances: [Double])? {
        guard dimension == 3, !isProfile, (0...2).contains(axis), contents.count == cellCount else { return nil }
        let counts = [xAxis.binCount, yAxis.binCount, zAxis.binCount]
        let strides = [1, counts[0] + 2, (counts[0] + 2) * (counts[1] + 2)]
        let cellVariances = variances
        var values = [Double](repeating: 0, count: counts[axis]), sums = values
        for iz in 1...max(counts[2], 1) {
            for iy in 1...max(counts[1], 1) {
                for ix in 1...max(counts[0], 1) {
                    let cell = ix * strides[0] + iy * strides[1] + iz * strides[2]
                    let bin = [ix, iy, iz][axis] - 1
                    values[bin] += contents[cell]
                    sums[bin] += cellVariances[cell]
                }
            }
        }
        return (values, sums)
    }

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

    static func read(className: String, _ reader: inout ByteReader, references: ReferenceMap) throws -> Histogram {
        let opening = try readOpening(className: className, &reader, references: references, payloadLength: reader.bytes.count)
        let dimension = opening.dimension
        let storage: Character = opening.isProfile ? "D" : (className == "TH1K" ? "F" : className.last ?? "D")
        var histogram = try readTH1Rest(&reader, opening: opening, className: className)
        if dimension == 2 {
            _ = try reader.readFloat64()  // fScalefactor
            for _ in 0..<3 { histogram.statistics.append(try reader.readFloat64()) }
        } else if dimension == 3 {
            try reader.skipObject("TAtt3D")
            for _ in 0..<7 { histogram.statistics.append(try reader.readFloat64()) }
        }
        try reader.finishObject(end: opening.dimensionHeader?.end, "TH\(dimension)")
        let count = try reader.readCount32(limit: reader.remaining, what: "\(className) cell count")
        guard count == histogram.cellCount else {
            throw reader.error("\(className) stores \(count) cells, its axes need \(histogram.cellCount)")
        }
        histogram.contents = try readCells(&reader, storage: storage, count: count)
        if let profileBase = opening.profileBase {
            try reader.finishObject(end: profileBase.end, "TH\(dimension)D")
            histogram.binEntries = try reader.readTArrayD("fBinEntries")
            let mode = Int(try reader.readInt32())
            guard let option = ProfileErrorOption(rawValue: mode) else { throw reader.error("\(className) has an unknown fErrorMode \(mode)") }
            histogram.errorOption = option
            for _ in 0..<4 { histogram.profileStatistics.append(try reader.readFloat64()) }
            // fBinSumw2 exists from TProfile v5 / TProfile2D v6 on (ROOT 5).
            if let end = opening.outer.end, reader.position < end { histogram.binSumw2 = try reader.readTArrayD("fBinSumw2") }
        }
        try reader.finishObject(end: opening.outer.end, className)
        return histogram
    }

    /// The axes of a histogram of `className`, as many as its dimension, read from the start of
    /// its object: they come before the cells, so a caller that needs only the binning can
    /// decompress just the start of the object (`ROOTFile.histogramAxes`). `reader` holds the
    /// first bytes of a payload of `payloadLength` bytes.
    static func readAxes(className: String, _ reader: inout ByteReader, references: ReferenceMap, payloadLength: Int) throws -> [Axis] {
        let opening = try readOpening(className: className, &reader, references: references, payloadLength: payloadLength)
        return Array([opening.xAxis, opening.yAxis, opening.zAxis].prefix(opening.dimension))
    }

    /// The start of a histogram object, up to and including its axes: the headers of the class,
    /// of its profile base (TH{d}D) and of TH{d}, then TH1's header, name, attributes and axes.
    private struct Opening {
        var dimension: Int
        var isProfile: Bool
        var outer: (version: Int, end: Int?)
        var profileBase: (version: Int, end: Int?)?
        var dimensionHeader: (version: Int, end: Int?)?
        var th1Header: (version: Int, end: Int?)
        var named: (name: String, title: String)
        var xAxis: Axis
        var yAxis: Axis
        var zAxis: Axis
    }

    /// The headers enclosing the axes are checked against `payloadLength`, since `reader` may hold
    /// only the start of the payload.
    private static func readOpening(className: String, _ reader: inout ByteReader, references: ReferenceMap, payloadLength: Int) throws -> Opening {
        let isProfile = className.hasPrefix("TProfile")
        let dimension: Int
        switch className {
        case "TH1C", "TH1S", "TH1I", "TH1F", "TH1D", "TH1K", "TProfile": dimension = 1
        case "TH2C", "TH2S", "TH2I", "TH2F", "TH2D", "TProfile2D": dimension = 2
        case "TH3C", "TH3S", "TH3I", "TH3F", "TH3D", "TProfile3D": dimension = 3
        default: throw reader.error("\(className) is not a supported histogram class")
        }
        let outer = try reader.readVersionHeader(className, payloadLength: payloadLength)
        let profileBase = isProfile ? try reader.readVersionHeader("TH\(dimension)D", payloadLength: payloadLength) : nil
        let dimensionHeader = dimension > 1 ? try reader.readVersionHeader("TH\(dimension)", payloadLength: payloadLength) : nil
        let th1Header = try reader.readVersionHeader("TH1", payloadLength: payloadLength)
        let named = try reader.readTNamed()
        try reader.skipObject("TAttLine")
        try reader.skipObject("TAttFill")
        try reader.skipObject("TAttMarker")
        _ = try reader.readInt32()  // fNcells, checked against the axes by `read`
        let x = try Axis.read(&reader, references: references)
        let y = try Axis.read(&reader, references: references)
        let z = try Axis.read(&reader, references: references)
        return Opening(dimension: dimension, isProfile: isProfile, outer: outer, profileBase: profileBase, dimensionHeader: dimensionHeader,
                       th1Header: th1Header, named: named, xAxis: x, yAxis: y, zAxis: z)
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

    /// The TH1 base after the axes: everything up to fFunctions; the rest is skipped by byte count.
    private static func readTH1Rest(_ reader: inout ByteReader, opening: Opening, className: String) throws -> Histogram {
        try reader.skip(4)  // fBarOffset, fBarWidth
        let entries = try reader.readFloat64()
        var statistics: [Double] = []
        for _ in 0..<4 { statistics.append(try reader.readFloat64()) }
        try reader.skip(3 * 8)  // fMaximum, fMinimum, fNormFactor
        _ = try reader.readTArrayD("fContour")
        let sumw2 = try reader.readTArrayD("fSumw2")
        try reader.finishObject(end: opening.th1Header.end, "TH1")
        let dimension = opening.dimension
        var histogram = Histogram(className: className, name: opening.named.name, title: opening.named.title, xAxis: opening.xAxis,
                                  yAxis: dimension >= 2 ? opening.yAxis : nil, zAxis: dimension >= 3 ? opening.zAxis : nil,
                                  contents: [], sumw2: sumw2, entries: entries, statistics: statistics)
        histogram.yAxis = opening.yAxis
        histogram.zAxis = opening.zAxis
        return histogram
    }
}

/// TProfile's error options (ROOT's EErrorType, set by `SetErrorOption("")`, `"s"`, `"i"`, `"g"`).
public enum ProfileErrorOption: Int, Sendable {
    case mean = 0, spread = 1, spreadI = 2, spreadG = 3

    /// The option string ROOT takes.
    public var option: String {
        switch self {
        case .mean: return ""
        case .spread: return "s"
        case .spreadI: return "i"
        case .spreadG: return "g"
        }
    }
}
