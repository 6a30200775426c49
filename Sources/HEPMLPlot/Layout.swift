import Foundation

/// A rectangle in figure points, y growing downwards (cairo's device orientation).
public struct Rect: Equatable, Sendable {
    public var x: Double
    public var y: Double
    public var width: Double
    public var height: Double

    public var maxX: Double { x + width }
    public var maxY: Double { y + height }

    public func contains(x px: Double, y py: Double) -> Bool {
        px >= x && px <= maxX && py >= y && py <= maxY
    }

    func insetBy(left: Double, top: Double, right: Double, bottom: Double) -> Rect {
        Rect(x: x + left, y: y + top, width: max(width - left - right, 1), height: max(height - top - bottom, 1))
    }
}

public enum VerticalAnchor: Sendable {
    case top, middle, baseline, bottom
}

/// A label with its final position: everything the renderer writes as text, and what the SVG
/// metadata and the structure tests read.
public struct PlacedText: Sendable {
    /// Markup (`10^{3}`, `p_{T}`); `plainText` is what a reader sees.
    public var text: String
    public var x: Double
    public var y: Double
    public var size: Double
    public var horizontal: TextAlignment
    public var vertical: VerticalAnchor
    /// Radians, counter-clockwise as seen on the page (π/2 for y-axis titles).
    public var rotation: Double
    public var bold: Bool
    public var color: Color

    public var plainText: String { TextMarkup.plainText(text) }
}

public struct AxisLayout: Sendable {
    public var scale: AxisScale
    public var range: ClosedRange<Double>
    public var ticks: TickSet
    /// Labels of the major ticks that are drawn (a panel stacked on a sub-panel omits x labels).
    public var tickLabels: [PlacedText]
    public var offsetLabel: PlacedText?
    public var title: PlacedText?

    /// Position of `value` along the axis as a fraction of its length; log of a non-positive value
    /// lies far below the axis so lines leave the frame instead of vanishing.
    func fraction(_ value: Double) -> Double {
        switch scale {
        case .linear:
            return (value - range.lowerBound) / (range.upperBound - range.lowerBound)
        case .log:
            guard value > 0 else { return -1e3 }
            return (log10(value) - log10(range.lowerBound)) / (log10(range.upperBound) - log10(range.lowerBound))
        }
    }
}

public struct LegendEntry: Sendable {
    public var seriesIndex: Int
    public var label: PlacedText
    public var symbolFrame: Rect
    public var color: Color
}

public struct LegendLayout: Sendable {
    public var frame: Rect
    public var title: PlacedText?
    public var entries: [LegendEntry]
}

public struct ColorbarLayout: Sendable {
    public var frame: Rect
    public var colorScale: ColorScale
    public var axis: AxisLayout
}

public struct AxesLayout: Sendable {
    public var panelIndex: Int
    public var isSubpanel: Bool
    public var frame: Rect
    public var x: AxisLayout
    public var y: AxisLayout
    public var title: PlacedText?
    public var legend: LegendLayout?
    /// Resolved colour of every series, index-aligned with `Axes.series`.
    public var seriesColors: [Color]
    /// Heatmap colour scales with their ranges resolved, keyed by series index.
    public var colorScales: [Int: ColorScale]
    public var colorbar: ColorbarLayout?

    public func pixelX(_ value: Double) -> Double { clampPixel(frame.x + x.fraction(value) * frame.width) }
    public func pixelY(_ value: Double) -> Double { clampPixel(frame.maxY - y.fraction(value) * frame.height) }

    private func clampPixel(_ p: Double) -> Double { p.isNaN ? p : min(max(p, -1e5), 1e5) }
}

/// Where everything goes, computed from a `Figure` without drawing; the renderer follows it and
/// tests inspect it.
public struct FigureLayout: Sendable {
    public var width: Double
    public var height: Double
    public var title: PlacedText?
    /// Main axes and sub-panels, in panel order (a sub-panel follows its main axes).
    public var axes: [AxesLayout]
    public var sharedColorbar: ColorbarLayout?

    /// Every text the figure draws.
    public var texts: [PlacedText] {
        var all: [PlacedText] = title.map { [$0] } ?? []
        func add(_ axis: AxisLayout) {
            all += axis.tickLabels
            all += [axis.offsetLabel, axis.title].compactMap { $0 }
        }
        for axes in self.axes {
            add(axes.x)
            add(axes.y)
            if let t = axes.title { all.append(t) }
            if let legend = axes.legend {
                all += legend.entries.map(\.label)
                if let t = legend.title { all.append(t) }
            }
            if let bar = axes.colorbar { add(bar.axis) }
        }
        if let bar = sharedColorbar { add(bar.axis) }
        return all
    }
}

extension Figure {
    /// The figure's layout at its nominal size in points.
    public func layout() -> FigureLayout {
        LayoutEngine(figure: self).run()
    }
}

/// Computes a `FigureLayout`: data ranges, ticks, margins shared by all panels (so a grid of
/// panels lines up), sub-panel splits, colour bars and legend positions.
struct LayoutEngine {
    let figure: Figure
    let style: Style
    let measurer: TextMeasurer
    let outerPadding = 6.0
    let tickLabelGap = 4.0
    let colorbarGap = 10.0
    let colorbarWidth = 12.0

    init(figure: Figure) {
        self.figure = figure
        style = figure.style
        measurer = TextMeasurer(typeface: Typeface(family: figure.style.fontFamily))
    }

    /// One axes to place: a panel's main axes or its sub-panel.
    struct Slot {
        var panelIndex: Int
        var axes: Axes
        var isSubpanel: Bool
        var hasSubpanel: Bool
        var xRange: ClosedRange<Double>
        var yRange: ClosedRange<Double>
        var colorScales: [Int: ColorScale]
    }

    func run() -> FigureLayout {
        let panels = Array(figure.panels.prefix(figure.rows * figure.columns))
        let sharedScale = resolvedSharedScale(panels)
        var slots: [Slot] = []
        for (index, panel) in panels.enumerated() {
            let main = panel.axes
            let ranges = DataRanges(axes: main, hasLegend: hasLegend(main))
            slots.append(Slot(panelIndex: index, axes: main, isSubpanel: false, hasSubpanel: panel.subpanel != nil,
                              xRange: ranges.x, yRange: ranges.y, colorScales: colorScales(main, shared: sharedScale)))
            if let sub = panel.subpanel {
                let subRanges = DataRanges(axes: sub, hasLegend: hasLegend(sub))
                slots.append(Slot(panelIndex: index, axes: sub, isSubpanel: true, hasSubpanel: false,
                                  xRange: ranges.x, yRange: subRanges.y, colorScales: colorScales(sub, shared: sharedScale)))
            }
        }

        let tickHeight = measurer.height(size: style.tickLabelSize)
        let labelHeight = measurer.height(size: style.axisLabelSize)
        let titleHeight = measurer.height(size: style.titleSize)

        var top = outerPadding
        var figureTitle: PlacedText?
        if let title = figure.title {
            figureTitle = PlacedText(text: title, x: figure.width / 2, y: top, size: style.titleSize * 1.1, horizontal: .center,
                                     vertical: .top, rotation: 0, bold: true, color: style.foreground)
            top += titleHeight * 1.1 + 4
        }
        var sharedBarReserve = 0.0
        if let shared = figure.sharedColorbar, let scale = sharedScale {
            sharedBarReserve = colorbarReserve(scale: scale, label: shared.label, length: figure.height * 0.7)
        }
        let grid = Rect(x: outerPadding, y: top, width: figure.width - 2 * outerPadding - sharedBarReserve,
                        height: figure.height - top - outerPadding)
        let cellWidth = grid.width / Double(figure.columns)
        let cellHeight = grid.height / Double(figure.rows)

        // Margins from estimated axis lengths; uniform over panels so a grid lines up.
        var left = 0.0, bottom = 0.0, axesTop = 0.0, right = 8.0
        for slot in slots {
            let xTicks = TickGenerator.ticks(for: slot.xRange, scale: slot.axes.xScale, targetCount: xTickTarget(cellWidth * 0.8))
            let yTicks = TickGenerator.ticks(for: slot.yRange, scale: slot.axes.yScale, targetCount: yTickTarget(cellHeight * 0.7))
            let widest = yTicks.majors.map { measurer.width($0.label, size: style.tickLabelSize) }.max() ?? 0
            left = max(left, widest + tickLabelGap * 2 + (slot.axes.yLabel != nil ? labelHeight + 2 : 0))
            if !slot.hasSubpanel {
                let offset = xTicks.offsetLabel != nil ? tickHeight : 0
                bottom = max(bottom, tickHeight + tickLabelGap + 2 + max(slot.axes.xLabel != nil ? labelHeight + 2 : 0, offset))
            }
            if !slot.isSubpanel {
                var need = slot.axes.title != nil ? titleHeight + 6 : 0
                if yTicks.offsetLabel != nil { need = max(need, tickHeight + 4) }
                axesTop = max(axesTop, need)
            }
            for (index, scale) in slot.colorScales.sorted(by: { $0.key < $1.key }) where figure.sharedColorbar == nil {
                if let mapping = slot.axes.series[index].colorMapping, mapping.showsColorbar {
                    right = max(right, colorbarReserve(scale: scale, label: mapping.colorbarLabel, length: cellHeight * 0.7))
                }
            }
            let lastLabel = xTicks.majors.last.map { measurer.width($0.label, size: style.tickLabelSize) } ?? 0
            right = max(right, lastLabel / 2 + 2)
        }

        var axesLayouts: [AxesLayout] = []
        var slotIndex = 0
        for (index, panel) in panels.enumerated() {
            let cell = Rect(x: grid.x + Double(index % figure.columns) * cellWidth,
                            y: grid.y + Double(index / figure.columns) * cellHeight, width: cellWidth, height: cellHeight)
            var frame = cell.insetBy(left: left, top: axesTop, right: right, bottom: bottom)
            var subFrame: Rect?
            if panel.subpanel != nil {
                let subHeight = frame.height * panel.subpanelFraction
                subFrame = Rect(x: frame.x, y: frame.maxY - subHeight, width: frame.width, height: subHeight)
                frame.height -= subHeight
            } else if panel.axes.equalAspect {
                frame = equalAspect(frame, slots[slotIndex])
            }
            axesLayouts.append(place(slots[slotIndex], frame: frame))
            slotIndex += 1
            if let subFrame {
                axesLayouts.append(place(slots[slotIndex], frame: subFrame))
                slotIndex += 1
            }
        }

        var shared: ColorbarLayout?
        if let bar = figure.sharedColorbar, let scale = sharedScale {
            let frames = axesLayouts.map(\.frame)
            let topEdge = frames.map(\.y).min() ?? grid.y
            let bottomEdge = frames.map(\.maxY).max() ?? grid.maxY
            let frame = Rect(x: grid.maxX + colorbarGap, y: topEdge, width: colorbarWidth, height: bottomEdge - topEdge)
            shared = colorbar(frame: frame, scale: scale, label: bar.label)
        }
        return FigureLayout(width: figure.width, height: figure.height, title: figureTitle, axes: axesLayouts, sharedColorbar: shared)
    }

    private func xTickTarget(_ length: Double) -> Int { max(3, min(9, Int(length / 55))) }
    private func yTickTarget(_ length: Double) -> Int { max(3, min(9, Int(length / 40))) }

    private func hasLegend(_ axes: Axes) -> Bool {
        axes.legend != .hidden && axes.series.contains { $0.label != nil && $0.isLegendable }
    }

    private func equalAspect(_ frame: Rect, _ slot: Slot) -> Rect {
        guard slot.axes.xScale == .linear, slot.axes.yScale == .linear else { return frame }
        let dataWidth = slot.xRange.upperBound - slot.xRange.lowerBound
        let dataHeight = slot.yRange.upperBound - slot.yRange.lowerBound
        guard dataWidth > 0, dataHeight > 0 else { return frame }
        let unit = min(frame.width / dataWidth, frame.height / dataHeight)
        let width = unit * dataWidth, height = unit * dataHeight
        return Rect(x: frame.x + (frame.width - width) / 2, y: frame.y, width: width, height: height)
    }

    /// Room to the right of an axes for a colour bar, its tick labels and its title.
    private func colorbarReserve(scale: ColorScale, label: String?, length: Double) -> Double {
        let range = scale.range ?? 0...1
        let ticks = TickGenerator.ticks(for: range, scale: scale.scale, targetCount: yTickTarget(length))
        let widest = ticks.majors.map { measurer.width($0.label, size: style.tickLabelSize) }.max() ?? 0
        let labelRoom = label != nil ? measurer.height(size: style.axisLabelSize) + tickLabelGap : 0
        return colorbarGap + colorbarWidth + tickLabelGap + widest + labelRoom + 4
    }

    private func colorbar(frame: Rect, scale: ColorScale, label: String?) -> ColorbarLayout {
        let range = scale.range ?? 0...1
        let ticks = TickGenerator.ticks(for: range, scale: scale.scale, targetCount: yTickTarget(frame.height))
        var axis = AxisLayout(scale: scale.scale, range: range, ticks: ticks, tickLabels: [], offsetLabel: nil, title: nil)
        var widest = 0.0
        for major in ticks.majors {
            let y = frame.maxY - axis.fraction(major.value) * frame.height
            axis.tickLabels.append(text(major.label, x: frame.maxX + tickLabelGap, y: y, size: style.tickLabelSize,
                                        horizontal: .left, vertical: .middle))
            widest = max(widest, measurer.width(major.label, size: style.tickLabelSize))
        }
        if let offset = ticks.offsetLabel {
            axis.offsetLabel = text(offset, x: frame.x, y: frame.y - 3, size: style.tickLabelSize, horizontal: .left, vertical: .bottom)
        }
        if let label {
            var title = text(label, x: frame.maxX + tickLabelGap * 2 + widest, y: frame.y, size: style.axisLabelSize,
                             horizontal: .right, vertical: .top)
            title.rotation = .pi / 2
            axis.title = title
        }
        var resolved = scale
        resolved.range = range
        return ColorbarLayout(frame: frame, colorScale: resolved, axis: axis)
    }

    private func text(_ markup: String, x: Double, y: Double, size: Double, horizontal: TextAlignment,
                      vertical: VerticalAnchor, bold: Bool = false) -> PlacedText {
        PlacedText(text: markup, x: x, y: y, size: size, horizontal: horizontal, vertical: vertical, rotation: 0,
                   bold: bold, color: style.foreground)
    }

    private func place(_ slot: Slot, frame: Rect) -> AxesLayout {
        let axes = slot.axes
        let tickHeight = measurer.height(size: style.tickLabelSize)
        let xTicks = TickGenerator.ticks(for: slot.xRange, scale: axes.xScale, targetCount: xTickTarget(frame.width))
        let yTicks = TickGenerator.ticks(for: slot.yRange, scale: axes.yScale, targetCount: yTickTarget(frame.height))
        var x = AxisLayout(scale: axes.xScale, range: slot.xRange, ticks: xTicks, tickLabels: [], offsetLabel: nil, title: nil)
        var y = AxisLayout(scale: axes.yScale, range: slot.yRange, ticks: yTicks, tickLabels: [], offsetLabel: nil, title: nil)

        if !slot.hasSubpanel {
            for major in xTicks.majors {
                let px = frame.x + x.fraction(major.value) * frame.width
                x.tickLabels.append(text(major.label, x: px, y: frame.maxY + tickLabelGap, size: style.tickLabelSize,
                                         horizontal: .center, vertical: .top))
            }
            let titleY = frame.maxY + tickLabelGap + tickHeight + 2
            if let offset = xTicks.offsetLabel {
                x.offsetLabel = text(offset, x: frame.maxX, y: titleY, size: style.tickLabelSize, horizontal: .right, vertical: .top)
            }
            if let label = axes.xLabel {
                let shift = x.offsetLabel.map { measurer.width($0.text, size: style.tickLabelSize) + 8 } ?? 0
                x.title = text(label, x: frame.maxX - shift, y: titleY, size: style.axisLabelSize, horizontal: .right, vertical: .top)
            }
        }
        var widest = 0.0
        for major in yTicks.majors {
            let py = frame.maxY - y.fraction(major.value) * frame.height
            // Where a main panel meets its sub-panel the two end labels would collide; drop them.
            if slot.hasSubpanel && frame.maxY - py < tickHeight * 0.6 { continue }
            if slot.isSubpanel && py - frame.y < tickHeight * 0.6 { continue }
            y.tickLabels.append(text(major.label, x: frame.x - tickLabelGap, y: py, size: style.tickLabelSize,
                                     horizontal: .right, vertical: .middle))
            widest = max(widest, measurer.width(major.label, size: style.tickLabelSize))
        }
        if let offset = yTicks.offsetLabel {
            y.offsetLabel = text(offset, x: frame.x, y: frame.y - 3, size: style.tickLabelSize, horizontal: .left, vertical: .bottom)
        }
        if let label = axes.yLabel {
            var title = text(label, x: frame.x - tickLabelGap * 2 - widest, y: frame.y, size: style.axisLabelSize,
                             horizontal: .right, vertical: .bottom)
            title.rotation = .pi / 2
            y.title = title
        }
        let title = axes.title.map {
            text($0, x: frame.x + frame.width / 2, y: frame.y - 5 - (y.offsetLabel != nil ? tickHeight : 0),
                 size: style.titleSize, horizontal: .center, vertical: .bottom)
        }

        var colors: [Color] = []
        let automatic = axes.series.filter { $0.color == nil && $0.takesCycleColor }.count
        var cycleIndex = 0
        for series in axes.series {
            if let color = series.color {
                colors.append(color)
            } else if series.takesCycleColor {
                colors.append(Palette.cycleColor(cycleIndex, of: automatic))
                cycleIndex += 1
            } else {
                colors.append(style.foreground)
            }
        }

        var layout = AxesLayout(panelIndex: slot.panelIndex, isSubpanel: slot.isSubpanel, frame: frame, x: x, y: y,
                                title: title, legend: nil, seriesColors: colors, colorScales: slot.colorScales, colorbar: nil)
        if figure.sharedColorbar == nil {
            for (index, scale) in slot.colorScales.sorted(by: { $0.key < $1.key }) {
                guard let mapping = axes.series[index].colorMapping, mapping.showsColorbar else { continue }
                let barFrame = Rect(x: frame.maxX + colorbarGap, y: frame.y, width: colorbarWidth, height: frame.height)
                layout.colorbar = colorbar(frame: barFrame, scale: scale, label: mapping.colorbarLabel)
                break
            }
        }
        if hasLegend(axes) {
            layout.legend = LegendPlacer(style: style, measurer: measurer).legend(for: axes, in: layout)
        }
        return layout
    }

    private func colorScales(_ axes: Axes, shared: ColorScale?) -> [Int: ColorScale] {
        var scales: [Int: ColorScale] = [:]
        for (index, series) in axes.series.enumerated() {
            guard let mapping = series.colorMapping else { continue }
            if let shared {
                scales[index] = shared
            } else {
                var scale = mapping.scale
                scale.range = Self.validRange(scale.range, scale: scale.scale) ?? mapping.dataRange(scale.scale).map {
                    Self.widenDegenerate($0, scale: scale.scale)
                } ?? (scale.scale == .log ? 1...10 : 0...1)
                scales[index] = scale
            }
        }
        return scales
    }

    /// The shared colour scale with its range from every heatmap of the figure.
    private func resolvedSharedScale(_ panels: [Panel]) -> ColorScale? {
        guard var scale = figure.sharedColorbar?.colorScale else { return nil }
        if let given = Self.validRange(scale.range, scale: scale.scale) {
            scale.range = given
            return scale
        }
        var low = Double.infinity, high = -Double.infinity
        for panel in panels {
            for series in panel.axes.series + (panel.subpanel?.series ?? []) {
                if let range = series.colorMapping?.dataRange(scale.scale) {
                    low = min(low, range.lowerBound)
                    high = max(high, range.upperBound)
                }
            }
        }
        scale.range = low <= high ? Self.widenDegenerate(low...high, scale: scale.scale) : (scale.scale == .log ? 1...10 : 0...1)
        return scale
    }

    static func validRange(_ range: ClosedRange<Double>?, scale: AxisScale) -> ClosedRange<Double>? {
        guard let range, range.lowerBound.isFinite, range.upperBound.isFinite, range.upperBound > range.lowerBound,
              scale == .linear || range.lowerBound > 0 else { return nil }
        return range
    }

    static func widenDegenerate(_ range: ClosedRange<Double>, scale: AxisScale) -> ClosedRange<Double> {
        guard range.upperBound <= range.lowerBound else { return range }
        let v = range.lowerBound
        switch scale {
        case .linear: return v == 0 ? -0.5...0.5 : (v - abs(v) * 0.5)...(v + abs(v) * 0.5)
        case .log: return (v / 10)...(v * 10)
        }
    }
}

extension Series {
    /// Lines, histograms, markers and bands take colours from the cycle; reference lines, text and
    /// "data" points default to the foreground colour as in HEP figures.
    var takesCycleColor: Bool {
        switch kind {
        case .line, .scatter, .band: return true
        case .histogram(_, _, _, let style): return style != .points
        case .horizontalLine, .verticalLine, .text, .heatmap, .polygons: return false
        }
    }

    var isLegendable: Bool {
        switch kind {
        case .text, .heatmap, .polygons: return false
        default: return true
        }
    }
}
