/// One thing drawn in an axes. Build with the static constructors (`.line`, `.histogram`, …).
public struct Series: Sendable {
    public enum Kind: Sendable {
        case line(x: [Double], y: [Double])
        case histogram(edges: [Double], contents: [Double], errors: [Double]?, style: HistogramStyle)
        case scatter(x: [Double], y: [Double], yErrors: [Double]?)
        /// The area between two curves, e.g. TPR ± uncertainty or a 68 % quantile band.
        case band(x: [Double], lower: [Double], upper: [Double])
        case horizontalLine(y: Double)
        case verticalLine(x: Double)
        case text(String, x: Double, y: Double, coordinates: TextCoordinates, alignment: TextAlignment)
        case heatmap(Heatmap)
        case polygons(PolygonMap)
    }

    public var kind: Kind
    /// Shown in the legend; nil keeps the series out of it.
    public var label: String?
    /// nil: the next colour of the Petroff cycle (black for data points and reference lines).
    public var color: Color?
    public var lineWidth: Double
    /// Dash pattern in points; empty for solid.
    public var dash: [Double]
    /// Fill opacity for bands and filled histograms.
    public var fillOpacity: Double
    public var markerSize: Double

    public init(_ kind: Kind, label: String? = nil, color: Color? = nil, lineWidth: Double = 1.5,
                dash: [Double] = [], fillOpacity: Double = 0.3, markerSize: Double = 5) {
        self.kind = kind
        self.label = label
        self.color = color
        self.lineWidth = lineWidth
        self.dash = dash
        self.fillOpacity = fillOpacity
        self.markerSize = markerSize
    }

    public static func line(x: [Double], y: [Double], label: String? = nil, color: Color? = nil,
                            lineWidth: Double = 1.5, dash: [Double] = []) -> Series {
        Series(.line(x: x, y: y), label: label, color: color, lineWidth: lineWidth, dash: dash)
    }

    /// `edges` has one more entry than `contents`; `errors` (one per bin) draws vertical bars.
    public static func histogram(edges: [Double], contents: [Double], errors: [Double]? = nil,
                                 style: HistogramStyle = .step, label: String? = nil, color: Color? = nil,
                                 lineWidth: Double = 1.5, fillOpacity: Double = 0.35) -> Series {
        Series(.histogram(edges: edges, contents: contents, errors: errors, style: style), label: label, color: color,
               lineWidth: lineWidth, fillOpacity: fillOpacity)
    }

    public static func scatter(x: [Double], y: [Double], yErrors: [Double]? = nil, label: String? = nil,
                               color: Color? = nil, markerSize: Double = 5) -> Series {
        Series(.scatter(x: x, y: y, yErrors: yErrors), label: label, color: color, markerSize: markerSize)
    }

    public static func band(x: [Double], lower: [Double], upper: [Double], label: String? = nil,
                            color: Color? = nil, fillOpacity: Double = 0.3) -> Series {
        Series(.band(x: x, lower: lower, upper: upper), label: label, color: color, fillOpacity: fillOpacity)
    }

    /// A filled area between a curve and a constant baseline (a band with a flat lower edge).
    public static func area(x: [Double], y: [Double], baseline: Double = 0, label: String? = nil,
                            color: Color? = nil, fillOpacity: Double = 0.3) -> Series {
        band(x: x, lower: Array(repeating: baseline, count: x.count), upper: y, label: label, color: color, fillOpacity: fillOpacity)
    }

    public static func horizontalLine(at y: Double, label: String? = nil, color: Color? = nil,
                                      lineWidth: Double = 1, dash: [Double] = [4, 3]) -> Series {
        Series(.horizontalLine(y: y), label: label, color: color, lineWidth: lineWidth, dash: dash)
    }

    public static func verticalLine(at x: Double, label: String? = nil, color: Color? = nil,
                                    lineWidth: Double = 1, dash: [Double] = [4, 3]) -> Series {
        Series(.verticalLine(x: x), label: label, color: color, lineWidth: lineWidth, dash: dash)
    }

    public static func text(_ text: String, x: Double, y: Double, coordinates: TextCoordinates = .axesFraction,
                            alignment: TextAlignment = .left, color: Color? = nil) -> Series {
        Series(.text(text, x: x, y: y, coordinates: coordinates, alignment: alignment), color: color)
    }

    public static func heatmap(_ heatmap: Heatmap) -> Series {
        Series(.heatmap(heatmap))
    }

    public static func polygons(_ map: PolygonMap) -> Series {
        Series(.polygons(map))
    }
}

public enum HistogramStyle: Sendable {
    /// Outline only (several distributions overlaid).
    case step
    /// Outline plus a translucent fill.
    case filled
    /// Markers at bin centres with vertical error bars and half-bin horizontal bars: "data".
    case points
}

public enum TextCoordinates: Sendable {
    case data
    /// (0, 0) is the lower-left corner of the axes frame, (1, 1) the upper right.
    case axesFraction
}

public enum TextAlignment: Sendable {
    case left, center, right
}

/// A 2D map of values on a grid of cells. `values` is row-major with `rows` rows of `columns`
/// cells: `values[row * columns + column]`, row 0 at the lowest y edge (as in a TH2 read bin by
/// bin with y outer), column 0 at the lowest x edge.
public struct Heatmap: Sendable {
    public var xEdges: [Double]
    public var yEdges: [Double]
    public var values: [Double]
    /// Same layout as `values`; true marks an inactive cell, drawn in `inactiveColor`.
    public var mask: [Bool]?
    public var colorScale: ColorScale
    public var inactiveColor: Color
    /// Thin lines between cells (readable 8×8 images); off for dense maps.
    public var showsCellGrid: Bool
    public var showsColorbar: Bool
    public var colorbarLabel: String?

    public var columns: Int { max(xEdges.count - 1, 0) }
    public var rows: Int { max(yEdges.count - 1, 0) }

    public init(xEdges: [Double], yEdges: [Double], values: [Double], mask: [Bool]? = nil,
                colorScale: ColorScale = ColorScale(), inactiveColor: Color = .inactive,
                showsCellGrid: Bool = false, showsColorbar: Bool = true, colorbarLabel: String? = nil) {
        self.xEdges = xEdges
        self.yEdges = yEdges
        self.values = values
        self.mask = mask
        self.colorScale = colorScale
        self.inactiveColor = inactiveColor
        self.showsCellGrid = showsCellGrid
        self.showsColorbar = showsColorbar
        self.colorbarLabel = colorbarLabel
    }

    /// Unit cells: column c spans [c, c+1), row r spans [r, r+1) (image and index maps).
    public init(columns: Int, rows: Int, values: [Double], mask: [Bool]? = nil, colorScale: ColorScale = ColorScale(),
                showsCellGrid: Bool = false, showsColorbar: Bool = true, colorbarLabel: String? = nil) {
        self.init(xEdges: (0...max(columns, 0)).map(Double.init), yEdges: (0...max(rows, 0)).map(Double.init),
                  values: values, mask: mask, colorScale: colorScale, showsCellGrid: showsCellGrid,
                  showsColorbar: showsColorbar, colorbarLabel: colorbarLabel)
    }

    /// The value at a cell, nil outside the grid or when `values` is too short.
    func value(row: Int, column: Int) -> Double? {
        let index = row * columns + column
        guard row >= 0, column >= 0, row < rows, column < columns, index < values.count else { return nil }
        return values[index]
    }

    func isMasked(row: Int, column: Int) -> Bool {
        guard let mask else { return false }
        let index = row * columns + column
        return index < mask.count && mask[index]
    }

    func dataRange(scale: AxisScale) -> ClosedRange<Double>? {
        colorValueRange(values.prefix(rows * columns), mask: mask, scale: scale)
    }
}

extension Heatmap {
    /// Reorders x-major cells (`ix * ny + iy`: ROOT's and uproot's flattened 2D histograms, the
    /// DQM tables) into a heatmap's rows along y (`iy * nx + ix`); empty (nothing drawn) when
    /// the cell count is not `nx * ny`.
    public static func rowsAlongY(xMajor: [Double], columns nx: Int, rows ny: Int) -> [Double] {
        guard nx >= 0, ny >= 0, xMajor.count == nx * ny else { return [] }
        var result = [Double](repeating: 0, count: nx * ny)
        for ix in 0..<nx { for iy in 0..<ny { result[iy * nx + ix] = xMajor[ix * ny + iy] } }
        return result
    }
}

public struct Point: Equatable, Sendable {
    public var x: Double
    public var y: Double

    public init(x: Double, y: Double) {
        self.x = x
        self.y = y
    }
}

/// Cells of any shape coloured by value, for detector views whose cells are not a grid (the 48
/// rhombus trigger cells of an HGCAL wafer). `values[i]` and `mask[i]` belong to `polygons[i]`.
public struct PolygonMap: Sendable {
    public var polygons: [[Point]]
    public var values: [Double]
    public var mask: [Bool]?
    public var colorScale: ColorScale
    public var inactiveColor: Color
    /// Outline of every cell; nil draws none.
    public var edgeColor: Color?
    public var showsColorbar: Bool
    public var colorbarLabel: String?

    public init(polygons: [[Point]], values: [Double], mask: [Bool]? = nil, colorScale: ColorScale = ColorScale(),
                inactiveColor: Color = .inactive, edgeColor: Color? = .white, showsColorbar: Bool = true,
                colorbarLabel: String? = nil) {
        self.polygons = polygons
        self.values = values
        self.mask = mask
        self.colorScale = colorScale
        self.inactiveColor = inactiveColor
        self.edgeColor = edgeColor
        self.showsColorbar = showsColorbar
        self.colorbarLabel = colorbarLabel
    }

    func dataRange(scale: AxisScale) -> ClosedRange<Double>? {
        colorValueRange(values.prefix(polygons.count), mask: mask, scale: scale)
    }
}

/// Colour range from data: unmasked finite values, positive ones on a log scale.
func colorValueRange(_ values: ArraySlice<Double>, mask: [Bool]?, scale: AxisScale) -> ClosedRange<Double>? {
    var low = Double.infinity
    var high = -Double.infinity
    for (offset, v) in values.enumerated() {
        if let mask, offset < mask.count, mask[offset] { continue }
        guard v.isFinite, scale == .linear || v > 0 else { continue }
        low = min(low, v)
        high = max(high, v)
    }
    return low <= high ? low...high : nil
}

/// What layout needs to know about a colour-mapped series (heatmap or polygon map).
struct ColorMapping {
    var scale: ColorScale
    var showsColorbar: Bool
    var colorbarLabel: String?
    var dataRange: (AxisScale) -> ClosedRange<Double>?
}

extension Series {
    var colorMapping: ColorMapping? {
        switch kind {
        case .heatmap(let map):
            return ColorMapping(scale: map.colorScale, showsColorbar: map.showsColorbar, colorbarLabel: map.colorbarLabel,
                                dataRange: map.dataRange)
        case .polygons(let map):
            return ColorMapping(scale: map.colorScale, showsColorbar: map.showsColorbar, colorbarLabel: map.colorbarLabel,
                                dataRange: map.dataRange)
        default:
            return nil
        }
    }
}
