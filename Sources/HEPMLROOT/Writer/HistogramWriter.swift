import HEPMLCore

extension ROOTWriter {
    /// Writes a TH1/TH2/TH3 in C, S, I, F or D flavour (the class name picks it), or a TProfile,
    /// TProfile2D or TProfile3D (contents Σw·y, sumw2 Σw·y², binEntries Σw, binSumw2 Σw² or empty),
    /// at a slash path; missing directories are created. Missing fit statistics are computed from
    /// the contents (for profiles from the bin entries).
    public func write(_ histogram: Histogram, to objectPath: String) throws {
        let className = histogram.className
        let dimension = histogram.dimension
        let storage: Character
        if histogram.isProfile {
            guard className == (dimension == 1 ? "TProfile" : "TProfile\(dimension)D") else {
                throw FileFormatError(file: path, object: objectPath, reason: "cannot write \(className) as a \(dimension)D profile")
            }
            guard histogram.sumw2.count == histogram.cellCount, histogram.binEntries.count == histogram.cellCount,
                  histogram.binSumw2.isEmpty || histogram.binSumw2.count == histogram.cellCount else {
                throw FileFormatError(file: path, object: objectPath,
                                      reason: "a profile needs sumw2 and binEntries (and binSumw2 when weighted) for all \(histogram.cellCount) cells")
            }
            storage = "D"
        } else {
            guard className.count == 4, className.hasPrefix("TH"), let letter = className.last, "CSIFD".contains(letter),
                  Int(String(className.dropFirst(2).prefix(1))) == dimension else {
                throw FileFormatError(file: path, object: objectPath, reason: "cannot write \(className) as a \(dimension)D histogram")
            }
            storage = letter
        }
        guard histogram.contents.count == histogram.cellCount,
              histogram.sumw2.isEmpty || histogram.sumw2.count == histogram.cellCount else {
            throw FileFormatError(file: path, object: objectPath,
                                  reason: "histogram needs \(histogram.cellCount) cells (flow included), has \(histogram.contents.count) contents and \(histogram.sumw2.count) sumw2")
        }
        streamedClasses.insert(className)
        if [histogram.xAxis, histogram.yAxis, histogram.zAxis].contains(where: { !$0.labels.isEmpty }) { streamedClasses.insert("TObjString") }
        try writeObject(className: className, path: objectPath, title: histogram.title) { keyLength in
            var writer = ByteWriter()
            writer.bytes.reserveCapacity(600 + histogram.contents.count * (histogram.sumw2.isEmpty ? 8 : 16))
            var tags = ClassTags(keyLength: keyLength)
            let profile = histogram.isProfile ? writer.beginObject(version: dimension == 1 ? 7 : 8) : nil
            let outer = writer.beginObject(version: dimension == 1 ? 3 : 4)
            let middle = dimension > 1 ? writer.beginObject(version: dimension == 2 ? 5 : 6) : nil
            let statistics: [Double]
            if histogram.statistics.count >= 4 + (dimension == 2 ? 3 : dimension == 3 ? 7 : 0) {
                statistics = histogram.statistics
            } else if histogram.isProfile {
                // A profile's fTsumw… count fills (Σw per bin), not Σw·y.
                var weights = histogram
                weights.className = "TH\(dimension)D"
                weights.contents = histogram.binEntries
                weights.sumw2 = histogram.binSumw2
                statistics = HistogramStatistics.compute(weights)
            } else {
                statistics = HistogramStatistics.compute(histogram)
            }
            encodeTH1(histogram, statistics: statistics, &writer, &tags)
            if dimension == 2 {
                writer.f64(1)  // fScalefactor
                for value in statistics[4..<7] { writer.f64(value) }
            } else if dimension == 3 {
                let att3D = writer.beginObject(version: 1)
                writer.endObject(att3D)
                for value in statistics[4..<11] { writer.f64(value) }
            }
            if let middle { writer.endObject(middle) }
            writer.i32(histogram.contents.count)
            for value in histogram.contents {
                switch storage {
                case "C": writer.u8(UInt8(bitPattern: Int8(clamping: Int(value.rounded()))))
                case "S": writer.i16(Int16(clamping: Int(value.rounded())))
                case "I": writer.i32(Int32(clamping: Int(value.rounded())))
                case "F": writer.f32(Float(value))
                default: writer.f64(value)
                }
            }
            writer.endObject(outer)
            if let profile {
                writer.tarrayD(histogram.binEntries)
                writer.i32(histogram.errorOption.rawValue)
                // fYmin, fYmax (0, 0: no limits), fTsumwy = ΣΣw·y, fTsumwy2 = ΣΣw·y² unless given.
                let sums = histogram.profileStatistics.count == 4 ? histogram.profileStatistics
                    : [0, 0, histogram.contents.reduce(0, +), histogram.sumw2.reduce(0, +)]
                for value in sums { writer.f64(value) }
                writer.tarrayD(histogram.binSumw2)
                writer.endObject(profile)
            }
            return writer.bytes
        }
    }

    private func encodeTH1(_ histogram: Histogram, statistics: [Double], _ writer: inout ByteWriter, _ tags: inout ClassTags) {
        let start = writer.beginObject(version: 8)
        writer.tnamed(histogram.name, histogram.title)
        ROOTWriter.encodeAttributes(&writer)
        writer.i32(histogram.cellCount)
        encodeAxis(histogram.xAxis, &writer, &tags)
        encodeAxis(histogram.yAxis, &writer, &tags)
        encodeAxis(histogram.zAxis, &writer, &tags)
        writer.i16(0)  // fBarOffset
        writer.i16(1000)  // fBarWidth
        writer.f64(histogram.entries)
        for value in statistics[0..<4] { writer.f64(value) }
        writer.f64(-1111)  // fMaximum
        writer.f64(-1111)  // fMinimum
        writer.f64(0)  // fNormFactor
        writer.i32(0)  // fContour
        writer.tarrayD(histogram.sumw2)
        writer.tstring("")  // fOption
        let functions = writer.beginObject(version: 5)  // fFunctions: an empty TList, written inline
        writer.tobject()
        writer.tstring("")
        writer.i32(0)
        writer.endObject(functions)
        writer.i32(0)  // fBufferSize
        writer.u8(0)  // fBuffer: null-array flag
        writer.i32(0)  // fBinStatErrOpt
        writer.i32(2)  // fStatOverflows: kNeutral
        writer.endObject(start)
    }

    /// TAttLine, TAttFill and TAttMarker with ROOT's defaults.
    static func encodeAttributes(_ writer: inout ByteWriter, line: Bool = true, marker: Bool = true) {
        if line {
            let start = writer.beginObject(version: 2)
            writer.i16(602); writer.i16(1); writer.i16(1)
            writer.endObject(start)
        }
        let fill = writer.beginObject(version: 2)
        writer.i16(0); writer.i16(1001)
        writer.endObject(fill)
        if marker {
            let start = writer.beginObject(version: 2)
            writer.i16(1); writer.i16(1); writer.f32(1)
            writer.endObject(start)
        }
    }

    private func encodeAxis(_ axis: Axis, _ writer: inout ByteWriter, _ tags: inout ClassTags) {
        let start = writer.beginObject(version: 10)
        writer.tnamed(axis.name, axis.title)
        let attributes = writer.beginObject(version: 4)
        writer.i32(510); writer.i16(1); writer.i16(1); writer.i16(42)
        writer.f32(0.005); writer.f32(0.035); writer.f32(0.03); writer.f32(1); writer.f32(0.035)
        writer.i16(1); writer.i16(42)
        writer.endObject(attributes)
        writer.i32(axis.binCount)
        writer.f64(axis.minimum)
        writer.f64(axis.maximum)
        writer.tarrayD(axis.variableEdges.count == axis.binCount + 1 ? axis.variableEdges : [])
        writer.i32(0)  // fFirst
        writer.i32(0)  // fLast
        writer.u16(0)  // fBits2
        writer.u8(0)  // fTimeDisplay
        writer.tstring("")  // fTimeFormat
        if axis.labels.isEmpty {
            writer.u32(0)
        } else {
            let pointer = tags.beginPointer("THashList", &writer)
            let list = writer.beginObject(version: 5)
            writer.tobject()
            writer.tstring("")
            writer.i32(axis.labels.count)
            for (bin, label) in axis.labels.sorted(by: { $0.key < $1.key }) {
                let item = tags.beginPointer("TObjString", &writer)
                let string = writer.beginObject(version: 1)
                writer.tobject(uniqueID: UInt32(truncatingIfNeeded: bin))
                writer.tstring(label)
                writer.endObject(string)
                writer.endObject(item)
                writer.tstring("")
            }
            writer.endObject(list)
            writer.endObject(pointer)
        }
        writer.u32(0)  // fModLabs
        writer.endObject(start)
    }
}

/// ROOT's running sums (fTsumw, fTsumw2, fTsumwx, …) recomputed from bin contents at bin
/// centres, for histograms built from arrays rather than filled entry by entry.
enum HistogramStatistics {
    static func compute(_ histogram: Histogram) -> [Double] {
        let dimension = histogram.dimension
        let nx = histogram.xAxis.binCount, ny = dimension >= 2 ? histogram.yAxis.binCount : 1, nz = dimension >= 3 ? histogram.zAxis.binCount : 1
        func centers(_ axis: Axis) -> [Double] {
            let edges = axis.edges
            return (0..<axis.binCount).map { (edges[$0] + edges[$0 + 1]) / 2 }
        }
        let cx = centers(histogram.xAxis), cy = dimension >= 2 ? centers(histogram.yAxis) : [0], cz = dimension >= 3 ? centers(histogram.zAxis) : [0]
        var sums = [Double](repeating: 0, count: 11)  // w, w2, wx, wx2, wy, wy2, wxy, wz, wz2, wxz, wyz
        let variances = histogram.variances
        for iz in 0..<nz {
            for iy in 0..<ny {
                for ix in 0..<nx {
                    let cell = (ix + 1) + (nx + 2) * ((dimension >= 2 ? iy + 1 : 0) + (ny + 2) * (dimension >= 3 ? iz + 1 : 0))
                    let w = histogram.contents[cell]
                    let x = cx[ix], y = cy[dimension >= 2 ? iy : 0], z = cz[dimension >= 3 ? iz : 0]
                    sums[0] += w; sums[1] += variances[cell]
                    sums[2] += w * x; sums[3] += w * x * x
                    sums[4] += w * y; sums[5] += w * y * y; sums[6] += w * x * y
                    sums[7] += w * z; sums[8] += w * z * z; sums[9] += w * x * z; sums[10] += w * y * z
                }
            }
        }
        switch dimension {
        case 1: return Array(sums[0..<4])
        case 2: return Array(sums[0..<7])
        default: return sums
        }
    }
}
