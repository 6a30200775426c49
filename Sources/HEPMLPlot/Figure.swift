import Foundation

/// A figure: a rows × columns grid of panels, each with main axes and an optional shared-x
/// sub-panel (ratio or residual) below. Sizes are in points (1/72 inch), so the same figure has
/// the same proportions in PNG (at any DPI), SVG and PDF.
public struct Figure: Sendable {
    public var width: Double
    public var height: Double
    public var rows: Int
    public var columns: Int
    /// Filled row by row; a grid cell without a panel stays empty.
    public var panels: [Panel]
    public var title: String?
    /// One colour scale for every heatmap in the figure, drawn once at the right edge (image grids
    /// of depth maps must share a scale to be comparable).
    public var sharedColorbar: Colorbar?
    public var style: Style

    public init(width: Double = 460, height: Double = 345, rows: Int = 1, columns: Int = 1,
                panels: [Panel] = [], title: String? = nil, sharedColorbar: Colorbar? = nil, style: Style = .hep) {
        self.width = width
        self.height = height
        self.rows = max(rows, 1)
        self.columns = max(columns, 1)
        self.panels = panels
        self.title = title
        self.sharedColorbar = sharedColorbar
        self.style = style
    }

    /// A single-axes figure, the common case.
    public init(_ axes: Axes, width: Double = 460, height: Double = 345, style: Style = .hep) {
        self.init(width: width, height: height, panels: [Panel(axes)], style: style)
    }
}

public struct Panel: Sendable {
    public var axes: Axes
    /// Drawn directly below `axes`, sharing its x range; `axes` then omits its x tick labels.
    public var subpanel: Axes?
    /// The sub-panel's share of the panel height.
    public var subpanelFraction: Double

    public init(_ axes: Axes, subpanel: Axes? = nil, subpanelFraction: Double = 0.3) {
        self.axes = axes
        self.subpanel = subpanel
        self.subpanelFraction = min(max(subpanelFraction, 0.1), 0.7)
    }
}

public enum LegendPlacement: Sendable {
    /// The corner or edge position whose box covers the fewest data points.
    case best
    case upperRight, upperLeft, lowerRight, lowerLeft
    case hidden
}

public struct Axes: Sendable {
    public var title: String?
    public var xLabel: String?
    public var yLabel: String?
    public var xScale: AxisScale
    public var yScale: AxisScale
    /// Fixed limits; nil means "from the data" (histograms tight in x and from zero in y).
    public var xLimits: ClosedRange<Double>?
    public var yLimits: ClosedRange<Double>?
    public var series: [Series]
    public var legend: LegendPlacement
    public var legendTitle: String?
    public var showsGrid: Bool
    /// One data unit is as long in x as in y (square cells for 8×8 images).
    public var equalAspect: Bool

    public init(title: String? = nil, xLabel: String? = nil, yLabel: String? = nil,
                xScale: AxisScale = .linear, yScale: AxisScale = .linear,
                xLimits: ClosedRange<Double>? = nil, yLimits: ClosedRange<Double>? = nil,
                series: [Series] = [], legend: LegendPlacement = .best, legendTitle: String? = nil,
                showsGrid: Bool = false, equalAspect: Bool = false) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.xScale = xScale
        self.yScale = yScale
        self.xLimits = xLimits
        self.yLimits = yLimits
        self.series = series
        self.legend = legend
        self.legendTitle = legendTitle
        self.showsGrid = showsGrid
        self.equalAspect = equalAspect
    }
}

/// Sizes and strokes; `.hep` follows the mplhep look: ticks inside on all four sides, minor ticks,
/// no grid, labels large enough to read when the figure is shrunk into a slide.
public struct Style: Sendable {
    public var fontFamily: String
    public var tickLabelSize: Double
    public var axisLabelSize: Double
    public var titleSize: Double
    public var legendSize: Double
    public var annotationSize: Double
    public var majorTickLength: Double
    public var minorTickLength: Double
    public var frameWidth: Double
    public var background: Color
    public var foreground: Color

    public static let hep = Style(fontFamily: "DejaVu Sans", tickLabelSize: 10, axisLabelSize: 11.5, titleSize: 12.5,
                                  legendSize: 9.5, annotationSize: 9.5, majorTickLength: 6, minorTickLength: 3,
                                  frameWidth: 1, background: .white, foreground: .black)
}

/// How heatmap values become colours.
public struct ColorScale: Equatable, Sendable {
    public var map: ColorMap
    public var scale: AxisScale
    /// nil: from the unmasked finite values (positive ones for a log scale).
    public var range: ClosedRange<Double>?

    public init(map: ColorMap = .viridis, scale: AxisScale = .linear, range: ClosedRange<Double>? = nil) {
        self.map = map
        self.scale = scale
        self.range = range
    }
}

extension ColorScale {
    /// The colour of `value`, or nil where it has none: not finite, or not positive on a log
    /// scale (left empty, as ROOT's COLZ does).
    func color(for value: Double) -> Color? {
        let range = self.range ?? 0...1
        guard value.isFinite else { return nil }
        switch scale {
        case .linear:
            return map.color(at: (value - range.lowerBound) / (range.upperBound - range.lowerBound))
        case .log:
            guard value > 0, range.lowerBound > 0 else { return nil }
            return map.color(at: (log10(value) - log10(range.lowerBound)) / (log10(range.upperBound) - log10(range.lowerBound)))
        }
    }
}

public struct Colorbar: Sendable {
    public var colorScale: ColorScale
    public var label: String?

    public init(_ colorScale: ColorScale = ColorScale(), label: String? = nil) {
        self.colorScale = colorScale
        self.label = label
    }
}
