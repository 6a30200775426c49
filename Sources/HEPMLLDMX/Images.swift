import CVectorKernels
import Foundation
import HEPMLColumnar
import HEPMLCore
import HEPMLTensor

/// How hits become a fixed-size image (spec B.4), channels first as the engine takes them.
///
/// - `xyz`: three projections, channel 0 [x][y], channel 1 [y][z], channel 2 [z][x] (upstream's
///   (dim, dim, 3) image through `ToTensor`).
/// - `zSplit`: one channel per depth slice, [z][x][y]; slices equal in z, or with
///   `logarithmic` equal in log(z − front + 10 mm), thin at the front where showers start and
///   wide at the back.
///
/// HEPML bins x and y over the modules' extent and z over the ECal depth of the geometry, sums
/// the energy per pixel, and starts every event from an empty image. `upstreamBinning` instead
/// reproduces upstream's coordinate binning, which is wrong and kept only to measure what the
/// fixes are worth: every axis is the lattice `linspace(−200, 200, dim)` with the nearest lattice
/// point taken (so everything beyond ±200 mm lands in the edge pixels, and at v9 depths,
/// 204–484 mm, all z in the last one), and logarithmic slices use upstream's
/// `logspace(−200, 200, depth)` lattice, 10⁻²⁰⁰…10²⁰⁰. Upstream's other bugs (an image never
/// reset between events, a lost first hit, uint8 event ids) are not reproduced in either mode.
public struct ImageBinning: Codable, Equatable, Sendable {
    public enum Format: String, Codable, Sendable, CaseIterable {
        case xyz
        case zSplit = "z_split"
    }

    public var format: Format
    public var dim: Int
    /// Channels of `zSplit` (`xyz` always has 3).
    public var depth: Int
    public var logarithmic: Bool
    public var upstreamBinning: Bool
    public var geometry: ECalGeometry.Version

    public init(format: Format, dim: Int = 20, depth: Int = 3, logarithmic: Bool = false, upstreamBinning: Bool = false,
                geometry: ECalGeometry.Version = .v9) throws {
        guard dim >= 2, dim <= 1024 else { throw LDMXError("--dim must be 2…1024, got \(dim)") }
        guard format == .xyz || (depth >= 1 && depth <= 256) else { throw LDMXError("--depth must be 1…256, got \(depth)") }
        guard format == .zSplit || !logarithmic else { throw LDMXError("--log applies to the z_split format only") }
        self.format = format
        self.dim = dim
        self.depth = format == .xyz ? 3 : depth
        self.logarithmic = logarithmic
        self.upstreamBinning = upstreamBinning
        self.geometry = geometry
    }

    public var channels: Int { depth }
    /// Per-event shape [channels, dim, dim].
    public var shape: [Int] { [channels, dim, dim] }
    public var pixelsPerEvent: Int { channels * dim * dim }

    /// The coordinate ranges the axes cover (mm).
    public var ranges: (x: ClosedRange<Double>, y: ClosedRange<Double>, z: ClosedRange<Double>) {
        if upstreamBinning { return (-200...200, -200...200, -200...200) }
        let g = ECalGeometry(geometry)
        return (-g.maximumX...g.maximumX, -g.maximumY...g.maximumY, g.zRange)
    }

    /// Distance from the front that offsets the logarithm of `zSplit --log`.
    public static let logarithmicOffset = 10.0

    /// Edges of the z slices of `zSplit` in fixed binning (mm).
    public var depthEdges: [Double] {
        let z = ranges.z
        guard logarithmic else { return Binning.uniformEdges(count: channels, lower: z.lowerBound, upper: z.upperBound) }
        let s = Self.logarithmicOffset, lower = log(s), upper = log(z.upperBound - z.lowerBound + s)
        return Binning.uniformEdges(count: channels, lower: lower, upper: upper).map { z.lowerBound + exp($0) - s }
    }

    public var description: String {
        let r = ranges
        func text(_ range: ClosedRange<Double>) -> String { String(format: "[%.1f, %.1f] mm", range.lowerBound, range.upperBound) }
        var line = "\(format.rawValue) \(shape.map(String.init).joined(separator: "×")), x \(text(r.x)), y \(text(r.y)), z \(text(r.z))"
        if format == .zSplit { line += logarithmic ? ", logarithmic depth slices" : ", linear depth slices" }
        if upstreamBinning { line += " (UPSTREAM-PARITY BINNING: wrong on purpose, see docs/ldmx.md)" }
        return line
    }
}

/// Images of a hit table, built event-parallel straight into one contiguous [N, C, H, W] buffer.
public enum ECalImages {
    /// One image per event of `table`; every hit of the table lands in a pixel.
    public static func build(_ table: ECalHitTable, binning: ImageBinning) -> [Float] {
        build(table, binning: binning, instructions: VectorInstructions.usable)
    }

    /// As `build`, with the kernels of `instructions` (every set gives the same images).
    static func build(_ table: ECalHitTable, binning: ImageBinning, instructions: HEPMLVectorInstructions) -> [Float] {
        let count = table.eventCount * binning.pixelsPerEvent
        return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            fill(table, binning: binning, into: buffer, instructions: instructions)
            initialized = count
        }
    }

    /// The images of `table` written into `output`, for callers that bin many tables into one
    /// reused buffer (a fresh buffer of a million images costs its page faults first). Every
    /// pixel of the first `eventCount × pixelsPerEvent` values is written.
    public static func build(_ table: ECalHitTable, binning: ImageBinning, into output: UnsafeMutableBufferPointer<Float>) throws {
        guard output.count >= table.eventCount * binning.pixelsPerEvent else {
            throw LDMXError("an image buffer of \(output.count) values cannot hold \(table.eventCount) images of \(binning.pixelsPerEvent) pixels")
        }
        fill(table, binning: binning, into: output, instructions: VectorInstructions.usable)
    }

    private static func fill(_ table: ECalHitTable, binning: ImageBinning, into output: UnsafeMutableBufferPointer<Float>,
                             instructions: HEPMLVectorInstructions) {
        let address = Int(bitPattern: output.baseAddress)
        table.x.withUnsafeBufferPointer { x in
            table.y.withUnsafeBufferPointer { y in
                table.z.withUnsafeBufferPointer { z in
                    table.energy.withUnsafeBufferPointer { e in
                        table.eventOffsets.withUnsafeBufferPointer { offsets in
                            let hits = HitPointers(x: x, y: y, z: z, energy: e, offsets: offsets)
                            Parallel.forEachChunk(table.eventCount, minimumChunk: 4096) { range in
                                guard let base = UnsafeMutablePointer<Float>(bitPattern: address) else { return }
                                fill(hits, events: range, binning: binning, into: base, instructions: instructions)
                            }
                        }
                    }
                }
            }
        }
    }

    struct HitPointers {
        let x, y, z, energy: UnsafeBufferPointer<Float>
        let offsets: UnsafeBufferPointer<Int>
    }

    /// How a coordinate becomes a pixel index on one axis. Both rules clamp into the axis first,
    /// with NaN landing in pixel 0 (the hit table holds hits inside the geometry only, so that
    /// mostly catches a value exactly on the upper edge), and are branch-free so that a loop over
    /// a block of hits vectorizes. The xyz images apply the same arithmetic in C
    /// (`hepml_projection_images`), the z_split images these Swift rules.
    protocol PixelAxis {
        func index(_ value: Float) -> Int32
        /// The axis for `hepml_projection_images`, which applies the same rule.
        var parameters: HEPMLPixelAxis { get }
        static var isNearestLattice: Bool { get }
    }

    /// The nearest integer to `c` ∈ [0, 2²²], as a float and as an integer, without a checked
    /// float-to-integer conversion: `c + 2²³` rounds `c` exactly (the float spacing there is 1)
    /// and leaves the integer in the mantissa.
    @inline(__always) static func nearestInteger(_ c: Float) -> (rounded: Float, integer: Int32) {
        let shifted = c + 8_388_608
        return (shifted - 8_388_608, Int32(bitPattern: shifted.bitPattern & 0x7F_FFFF))
    }

    /// HEPML's binning: `⌊(v − lower) · scale⌋` over `bins` equal pixels.
    struct FloorAxis: PixelAxis {
        let lower: Float, scale: Float, last: Float

        init(_ range: ClosedRange<Double>, bins: Int) {
            lower = Float(range.lowerBound)
            last = Float(bins - 1)
            scale = Float(Double(bins) / (range.upperBound - range.lowerBound))
        }

        @inline(__always) func index(_ value: Float) -> Int32 {
            let t = (value - lower) * scale
            let low = t >= 0 ? t : 0
            let c = low < last ? low : last
            let nearest = ECalImages.nearestInteger(c)
            return nearest.rounded > c ? nearest.integer &- 1 : nearest.integer
        }

        var parameters: HEPMLPixelAxis { HEPMLPixelAxis(lower: lower, scale: scale, last: last) }
        static let isNearestLattice = false
    }

    /// Upstream's binning: the nearest point of the lattice `linspace(lower, upper, bins)`, the
    /// lower one on a tie as `argmin` takes them, `⌈(v − lower) · scale − ½⌉`.
    struct NearestLatticeAxis: PixelAxis {
        let lower: Float, scale: Float, last: Float

        init(_ range: ClosedRange<Double>, bins: Int) {
            lower = Float(range.lowerBound)
            last = Float(bins - 1)
            scale = Float(Double(bins - 1) / (range.upperBound - range.lowerBound))
        }

        @inline(__always) func index(_ value: Float) -> Int32 {
            let u = (value - lower) * scale - 0.5
            let low = u > 0 ? u : 0
            let c = low < last ? low : last
            let nearest = ECalImages.nearestInteger(c)
            return nearest.rounded < c ? nearest.integer &+ 1 : nearest.integer
        }

        var parameters: HEPMLPixelAxis { HEPMLPixelAxis(lower: lower, scale: scale, last: last) }
        static let isNearestLattice = true
    }

    /// Each event is binned into a scratch image that stays in L1 and then streamed out
    /// (`hepml_stream_out_and_clear`), which clears the scratch for the next event: the output is
    /// written exactly once, without being zeroed first or read for ownership. For a million
    /// images, far beyond the caches, that memory traffic is what bounds the rate.
    static func fill(_ hits: HitPointers, events: Range<Int>, binning: ImageBinning, into base: UnsafeMutablePointer<Float>,
                     instructions: HEPMLVectorInstructions) {
        let pixels = binning.pixelsPerEvent, dim = binning.dim, ranges = binning.ranges
        withUnsafeTemporaryAllocation(of: Float.self, capacity: pixels) { buffer in
            guard let scratch = buffer.baseAddress else { return }
            buffer.initialize(repeating: 0)
            switch (binning.format, binning.upstreamBinning) {
            case (.xyz, true):
                fillProjections(hits, events: events, dim: dim, scratch: scratch, into: base, instructions: instructions,
                                x: NearestLatticeAxis(ranges.x, bins: dim), y: NearestLatticeAxis(ranges.y, bins: dim),
                                z: NearestLatticeAxis(ranges.z, bins: dim))
            case (.xyz, false):
                fillProjections(hits, events: events, dim: dim, scratch: scratch, into: base, instructions: instructions,
                                x: FloorAxis(ranges.x, bins: dim), y: FloorAxis(ranges.y, bins: dim), z: FloorAxis(ranges.z, bins: dim))
            case (.zSplit, true):
                fillSlices(hits, events: events, binning: binning, scratch: scratch, into: base, instructions: instructions,
                           x: NearestLatticeAxis(ranges.x, bins: dim), y: NearestLatticeAxis(ranges.y, bins: dim))
            case (.zSplit, false):
                fillSlices(hits, events: events, binning: binning, scratch: scratch, into: base, instructions: instructions,
                           x: FloorAxis(ranges.x, bins: dim), y: FloorAxis(ranges.y, bins: dim))
            }
        }
        hepml_streaming_fence()
    }

    static func fillSlices<Axis: PixelAxis>(_ hits: HitPointers, events: Range<Int>, binning: ImageBinning, scratch: UnsafeMutablePointer<Float>,
                                            into base: UnsafeMutablePointer<Float>, instructions: HEPMLVectorInstructions, x ax: Axis, y ay: Axis) {
        let dim = binning.dim, plane = dim * dim, pixels = binning.pixelsPerEvent
        let slice = depthSlicer(binning)
        for event in events {
            for hit in hits.offsets[event]..<hits.offsets[event + 1] {
                let i = Int(ax.index(hits.x[hit])), j = Int(ay.index(hits.y[hit])), k = slice(hits.z[hit])
                scratch[k * plane + i * dim + j] += hits.energy[hit]
            }
            hepml_stream_out_and_clear(instructions, base + event * pixels, scratch, Int64(pixels))
        }
    }

    /// The xyz images of `events` by `hepml_projection_images`: the pixel rules of the axes (the
    /// same arithmetic, eight lanes wide with AVX2) and the energies added in hit order, the same
    /// sums in the same order as hit by hit.
    static func fillProjections<Axis: PixelAxis>(_ hits: HitPointers, events: Range<Int>, dim: Int, scratch: UnsafeMutablePointer<Float>,
                                                 into base: UnsafeMutablePointer<Float>, instructions: HEPMLVectorInstructions,
                                                 x ax: Axis, y ay: Axis, z az: Axis) {
        guard let x = hits.x.baseAddress, let y = hits.y.baseAddress, let z = hits.z.baseAddress, let energy = hits.energy.baseAddress,
              let offsets = hits.offsets.baseAddress else { return }
        offsets.withMemoryRebound(to: Int64.self, capacity: hits.offsets.count) { eventOffsets in
            // dim ≤ 1024 (`ImageBinning`).
            var job = HEPMLProjectionImages(x: x, y: y, z: z, energy: energy, eventOffsets: eventOffsets, xAxis: ax.parameters,
                                            yAxis: ay.parameters, zAxis: az.parameters, nearestLattice: Axis.isNearestLattice,
                                            dim: Int32(dim), scratch: scratch, output: base)
            hepml_projection_images(instructions, &job, Int64(events.lowerBound), Int64(events.upperBound))
        }
    }

    /// The z slice of a hit for `zSplit`.
    static func depthSlicer(_ binning: ImageBinning) -> (Float) -> Int {
        let channels = binning.channels
        let z = binning.ranges.z
        if binning.upstreamBinning {
            guard binning.logarithmic else {
                let axis = NearestLatticeAxis(z, bins: channels)
                return { Int(axis.index($0)) }
            }
            // numpy.logspace(−200, 200, depth): the nearest of 10^(−200 + 400 k/(depth − 1)).
            let lattice = Binning.uniformEdges(count: max(channels - 1, 0), lower: -200, upper: 200).map { pow(10, $0) }
            return { value in
                var best = 0
                for k in lattice.indices where abs(lattice[k] - Double(value)) < abs(lattice[best] - Double(value)) { best = k }
                return best
            }
        }
        guard binning.logarithmic else {
            let axis = FloorAxis(z, bins: channels)
            return { Int(axis.index($0)) }
        }
        let s = ImageBinning.logarithmicOffset, lower = log(s)
        let scale = Double(channels) / (log(z.upperBound - z.lowerBound + s) - lower)
        let front = z.lowerBound
        return { value in
            let t = ((log(max(Double(value) - front, 0) + s) - lower) * scale).rounded(.down)
            return Int(t >= 0 ? min(t, Double(channels - 1)) : 0)
        }
    }

    /// The cell-level image of each of `events`: [layers, lattice rows, lattice columns] per
    /// event, every hit in its own hexagonal cell of its layer (`ECalGeometry`'s lattice), so
    /// nothing is lost to a square grid. Rows run along y, columns along x (odd rows are
    /// shifted by half a cell).
    public static func cellImages(_ table: ECalHitTable, events: [Int], geometry: ECalGeometry) -> (values: [Float], shape: [Int]) {
        let rows = geometry.latticeRows, columns = geometry.latticeColumns
        let perEvent = geometry.layerCount * rows * columns
        var values = [Float](repeating: 0, count: events.count * perEvent)
        for (position, event) in events.enumerated() {
            for hit in table.hits(of: event) {
                let layer = geometry.nearestLayer(z: Double(table.z[hit]))
                guard let cell = geometry.nearestCell(x: Double(table.x[hit]), y: Double(table.y[hit])) else { continue }
                let row = cell.row + geometry.rowHalfCount, column = cell.column + geometry.columnHalfCount
                guard row >= 0, row < rows, column >= 0, column < columns else { continue }
                values[position * perEvent + (layer * rows + row) * columns + column] += table.energy[hit]
            }
        }
        return (values, [geometry.layerCount, rows, columns])
    }
}

/// Images with their event columns, as `hepml ldmx images` writes them (.npz: `images`
/// float32 [N, C, H, W], `label` int32, `mass` float32 MeV, `source` int32, `event` int64,
/// and `binning`, the `ImageBinning` as UTF-8 JSON bytes).
public struct LDMXImageSet: Sendable {
    public var binning: ImageBinning
    public var images: [Float]
    public var labels: [Int32]
    public var massesMeV: [Float]
    public var sources: [Int32]
    public var eventNumbers: [Int64]

    public var count: Int { labels.count }

    public init(_ table: ECalHitTable, binning: ImageBinning) {
        self.binning = binning
        images = ECalImages.build(table, binning: binning)
        labels = table.labels
        massesMeV = table.massesMeV
        sources = table.sources
        eventNumbers = table.eventNumbers
    }

    public init(binning: ImageBinning, images: [Float], labels: [Int32], massesMeV: [Float], sources: [Int32], eventNumbers: [Int64]) {
        self.binning = binning
        self.images = images
        self.labels = labels
        self.massesMeV = massesMeV
        self.sources = sources
        self.eventNumbers = eventNumbers
    }

    /// Writes the arrays from their own buffers (no copy of the images on the way to the file).
    public func write(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try NPZ.write([
            try NPZMember("images", images, shape: [count] + binning.shape),
            try NPZMember("label", labels),
            try NPZMember("mass", massesMeV),
            try NPZMember("source", sources),
            try NPZMember("event", eventNumbers),
            try NPZMember("binning", Array(try encoder.encode(binning))),
        ], to: path)
    }

    /// Reads the images straight into one contiguous buffer (stored .npz members, as `write` and
    /// `np.savez` make them, are not copied on the way).
    public static func read(path: String) throws -> LDMXImageSet {
        let file = try NPZFile(path: path)
        func values<T: NumPyElement>(_ name: String, _ type: T.Type) throws -> [T] {
            guard file.names.contains(name) else { throw FileFormatError(file: path, object: name, reason: "missing; not an image set of `hepml ldmx images`") }
            return try file.values(name, as: type).values
        }
        let binning: ImageBinning
        do { binning = try JSONDecoder().decode(ImageBinning.self, from: Data(try values("binning", UInt8.self))) } catch {
            throw FileFormatError(file: path, object: "binning", reason: "\(error)")
        }
        let set = LDMXImageSet(binning: binning, images: try values("images", Float.self), labels: try values("label", Int32.self),
                               massesMeV: try values("mass", Float.self), sources: try values("source", Int32.self),
                               eventNumbers: try values("event", Int64.self))
        let n = set.labels.count
        guard set.images.count == n * binning.pixelsPerEvent, set.massesMeV.count == n, set.sources.count == n, set.eventNumbers.count == n else {
            throw FileFormatError(file: path, object: "images", reason: "arrays disagree on the number of events (\(n) labels)")
        }
        return set
    }
}
