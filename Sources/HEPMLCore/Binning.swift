/// The bins of one axis: ascending edges, with the lookup every histogram, profile and plot in
/// HEPML shares. Bin `k` is `[edges[k], edges[k + 1])`, as in ROOT (`TAxis::FindBin`) and
/// `numpy.digitize`; a value at or above the last edge is overflow.
public struct Binning: Sendable, Equatable {
    /// `binCount + 1` edges, finite and non-decreasing.
    public let edges: [Double]
    /// Whether the edges came from `uniformEdges`, which lets the lookup start from an
    /// arithmetic guess instead of a binary search.
    private let isUniform: Bool

    /// `count` equal bins from `lower` to `upper` (at least one bin: a smaller `count` gives one).
    /// The edges are `uniformEdges(count:lower:upper:)`; with `upper ≤ lower` or a non-finite
    /// bound every value falls outside.
    public init(count: Int, lower: Double, upper: Double) {
        edges = Self.uniformEdges(count: max(1, count), lower: lower, upper: upper)
        isUniform = true
    }

    /// Variable bins; nil unless there are at least two edges, all finite and non-decreasing
    /// (equal neighbours make an empty bin, as numpy allows).
    public init?(edges: [Double]) {
        guard edges.count >= 2, edges.allSatisfy(\.isFinite), zip(edges, edges.dropFirst()).allSatisfy({ $0 <= $1 }) else { return nil }
        self.edges = edges
        isUniform = false
    }

    /// The one formula for equal-width edges in HEPML, `lower + i · ((upper − lower) / count)`
    /// with the last edge exactly `upper`: numpy's `linspace` (so uproot's `axis.edges()`) and
    /// ROOT's `TAxis::GetBinLowEdge`. `count + 1` values; `[lower]` when `count` is 0, none
    /// below that. A step that underflows to zero (subnormal ranges) scales `i / count` by the
    /// range instead, as numpy does.
    public static func uniformEdges(count: Int, lower: Double, upper: Double) -> [Double] {
        guard count > 0 else { return count == 0 ? [lower] : [] }
        let range = upper - lower
        let step = range / Double(count)
        var edges = (0..<count).map { index in
            (step == 0 ? Double(index) / Double(count) * range : Double(index) * step) + lower
        }
        edges.append(upper)
        return edges
    }

    public var binCount: Int { edges.count - 1 }
    public var lowerEdge: Double { edges[0] }
    public var upperEdge: Double { edges[edges.count - 1] }

    /// Midpoints `(edges[k] + edges[k + 1]) / 2`.
    public var centers: [Double] { zip(edges, edges.dropFirst()).map { ($0 + $1) / 2 } }
    public var widths: [Double] { zip(edges, edges.dropFirst()).map { $1 - $0 } }

    /// Where a value lies relative to the bins.
    public enum Location: Sendable, Equatable {
        case underflow
        case bin(Int)
        case overflow
    }

    /// The location of `value` (nil for NaN, which belongs nowhere). A uniform binning guesses
    /// the bin from `(value − lower) / width` and then checks it against the edges, so the
    /// answer always agrees with `edges`, whichever rounding the guess had.
    public func location(of value: Double) -> Location? {
        guard !value.isNaN else { return nil }
        guard value >= lowerEdge else { return .underflow }
        guard value < upperEdge else { return .overflow }
        // Here lowerEdge ≤ value < upperEdge: some bin k has edges[k] ≤ value < edges[k + 1].
        var low = 0, high = binCount - 1
        if isUniform {
            let guess = (value - lowerEdge) / (upperEdge - lowerEdge) * Double(binCount)
            let start = guess.isFinite ? Int(min(max(guess, 0), Double(binCount - 1))) : 0
            if value >= edges[start] { low = start } else { high = start - 1 }
            if low == start && start + 1 <= high && value < edges[start + 1] { return .bin(start) }
        }
        // Largest k in low...high with edges[k] ≤ value.
        while low < high {
            let middle = (low + high + 1) / 2
            if edges[middle] <= value { low = middle } else { high = middle - 1 }
        }
        return .bin(low)
    }

    /// The bin holding `value`, nil outside the edges or for NaN. `includingUpperEdge` closes
    /// the last bin on the right (`[e, upper]`), as `numpy.histogram` and scipy's
    /// `binned_statistic` do.
    public func bin(of value: Double, includingUpperEdge: Bool = false) -> Int? {
        switch location(of: value) {
        case .bin(let index): return index
        case .overflow where includingUpperEdge && value == upperEdge: return binCount - 1
        default: return nil
        }
    }

    /// The bin of `value` with underflow in the first bin and overflow in the last, so that a
    /// plot shows every entry; nil for NaN.
    public func clampedBin(of value: Double) -> Int? {
        switch location(of: value) {
        case .underflow: return 0
        case .bin(let index): return index
        case .overflow: return binCount - 1
        case nil: return nil
        }
    }

    /// Per bin, `weight` times the number of `values` in it (summed one entry at a time), with
    /// underflow and overflow counted in the edge bins (`clampedBin`); NaN is left out.
    public func clampedCounts(_ values: some Sequence<Double>, weight: Double = 1) -> [Double] {
        var counts = [Double](repeating: 0, count: binCount)
        for value in values {
            if let index = clampedBin(of: value) { counts[index] += weight }
        }
        return counts
    }
}
