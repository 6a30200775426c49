import CCairo
import Foundation

/// Draws a `FigureLayout` on a cairo context in figure points; output format and DPI are the
/// surface's business (see `Output.swift`).
struct Renderer {
    let figure: Figure
    let layout: FigureLayout
    let context: OpaquePointer
    var style: Style { figure.style }
    var typeface: Typeface { Typeface(family: figure.style.fontFamily) }

    func draw() {
        setColor(style.background)
        cairo_paint(context)
        var slot = 0
        for panel in figure.panels.prefix(figure.rows * figure.columns) {
            for axes in [panel.axes] + (panel.subpanel.map { [$0] } ?? []) where slot < layout.axes.count {
                drawAxes(axes, layout.axes[slot])
                slot += 1
            }
        }
        if let bar = layout.sharedColorbar { drawColorbar(bar) }
        if let title = layout.title { drawText(title) }
    }

    // MARK: Axes

    private func drawAxes(_ axes: Axes, _ box: AxesLayout) {
        cairo_save(context)
        cairo_rectangle(context, box.frame.x, box.frame.y, box.frame.width, box.frame.height)
        cairo_clip(context)
        if axes.showsGrid { drawGrid(box) }
        for (index, series) in axes.series.enumerated() {
            drawSeries(series, color: box.seriesColors[index], scale: box.colorScales[index], box: box)
        }
        cairo_restore(context)

        drawFrameAndTicks(box)
        for label in [box.x.tickLabels, box.y.tickLabels].joined() { drawText(label) }
        for label in [box.x.offsetLabel, box.y.offsetLabel, box.x.title, box.y.title, box.title].compactMap({ $0 }) {
            drawText(label)
        }
        if let bar = box.colorbar { drawColorbar(bar) }
        if let legend = box.legend { drawLegend(legend, axes: axes) }
    }

    private func drawGrid(_ box: AxesLayout) {
        setColor(Color(hex: 0xDDDDDD))
        cairo_set_line_width(context, 0.6)
        for major in box.x.ticks.majors {
            let px = box.pixelX(major.value)
            line(px, box.frame.y, px, box.frame.maxY)
        }
        for major in box.y.ticks.majors {
            let py = box.pixelY(major.value)
            line(box.frame.x, py, box.frame.maxX, py)
        }
    }

    /// The frame with ticks pointing inwards on all four sides (the HEP convention).
    private func drawFrameAndTicks(_ box: AxesLayout) {
        let f = box.frame
        setColor(style.foreground)
        cairo_set_line_width(context, style.frameWidth)
        cairo_set_dash(context, nil, 0, 0)
        cairo_rectangle(context, f.x, f.y, f.width, f.height)
        cairo_stroke(context)
        cairo_set_line_width(context, style.frameWidth * 0.8)
        func xTick(_ value: Double, length: Double) {
            let px = box.pixelX(value)
            guard px >= f.x - 0.01, px <= f.maxX + 0.01 else { return }
            line(px, f.maxY, px, f.maxY - length)
            line(px, f.y, px, f.y + length)
        }
        func yTick(_ value: Double, length: Double) {
            let py = box.pixelY(value)
            guard py >= f.y - 0.01, py <= f.maxY + 0.01 else { return }
            line(f.x, py, f.x + length, py)
            line(f.maxX, py, f.maxX - length, py)
        }
        box.x.ticks.majors.forEach { xTick($0.value, length: style.majorTickLength) }
        box.x.ticks.minors.forEach { xTick($0, length: style.minorTickLength) }
        box.y.ticks.majors.forEach { yTick($0.value, length: style.majorTickLength) }
        box.y.ticks.minors.forEach { yTick($0, length: style.minorTickLength) }
    }

    // MARK: Series

    private func drawSeries(_ series: Series, color: Color, scale: ColorScale?, box: AxesLayout) {
        cairo_set_line_width(context, series.lineWidth)
        series.dash.withUnsafeBufferPointer { cairo_set_dash(context, $0.baseAddress, Int32($0.count), 0) }
        cairo_set_line_join(context, CAIRO_LINE_JOIN_MITER)
        switch series.kind {
        case .line(let x, let y):
            setColor(color)
            polyline(zip(x, y).map { (box.pixelX($0), box.pixelY($1)) })
            cairo_stroke(context)
        case .scatter(let x, let y, let errors):
            setColor(color)
            drawMarkers(x: x, y: y, yErrors: errors, xHalfWidths: nil, size: series.markerSize, box: box)
        case .band(let x, let lower, let upper):
            let count = min(x.count, lower.count, upper.count)
            guard count > 1 else { return }
            var outline = (0..<count).map { (box.pixelX(x[$0]), box.pixelY(upper[$0])) }
            outline += (0..<count).reversed().map { (box.pixelX(x[$0]), box.pixelY(lower[$0])) }
            setColor(color.withAlpha(color.alpha * series.fillOpacity))
            polygonPath(outline)
            cairo_fill(context)
        case .histogram(let edges, let contents, let errors, let histogramStyle):
            drawHistogram(edges: edges, contents: contents, errors: errors, style: histogramStyle, series: series, color: color, box: box)
        case .horizontalLine(let y):
            setColor(color)
            line(box.frame.x, box.pixelY(y), box.frame.maxX, box.pixelY(y))
        case .verticalLine(let x):
            setColor(color)
            line(box.pixelX(x), box.frame.y, box.pixelX(x), box.frame.maxY)
        case .text(let text, let x, let y, let coordinates, let alignment):
            let point: (Double, Double)
            switch coordinates {
            case .data: point = (box.pixelX(x), box.pixelY(y))
            case .axesFraction: point = (box.frame.x + x * box.frame.width, box.frame.maxY - y * box.frame.height)
            }
            drawText(PlacedText(text: text, x: point.0, y: point.1, size: style.annotationSize, horizontal: alignment,
                                vertical: .middle, rotation: 0, bold: false, color: color))
        case .heatmap(let map):
            drawHeatmap(map, scale: scale ?? map.colorScale, box: box)
        case .polygons(let map):
            drawPolygons(map, scale: scale ?? map.colorScale, box: box)
        }
        cairo_set_dash(context, nil, 0, 0)
    }

    private func drawHistogram(edges: [Double], contents: [Double], errors: [Double]?, style histogramStyle: HistogramStyle,
                               series: Series, color: Color, box: AxesLayout) {
        let bins = min(contents.count, max(edges.count - 1, 0))
        guard bins > 0 else { return }
        let baseline = box.y.scale == .log ? box.frame.maxY + 1 : box.pixelY(0)
        if histogramStyle == .points {
            setColor(color)
            let centres = (0..<bins).map { (edges[$0] + edges[$0 + 1]) / 2 }
            let halfWidths = (0..<bins).map { (edges[$0 + 1] - edges[$0]) / 2 }
            drawMarkers(x: centres, y: Array(contents.prefix(bins)), yErrors: errors, xHalfWidths: halfWidths,
                        size: series.markerSize, box: box)
            return
        }
        // One closed outline per run of finite bins, dropping to the baseline at its ends.
        var runs: [[(Double, Double)]] = []
        var current: [(Double, Double)] = []
        for bin in 0..<bins {
            let value = contents[bin]
            let py = box.pixelY(value)
            guard value.isFinite, py.isFinite else {
                if !current.isEmpty { current.append((current[current.count - 1].0, baseline)); runs.append(current); current = [] }
                continue
            }
            let x0 = box.pixelX(edges[bin]), x1 = box.pixelX(edges[bin + 1])
            if current.isEmpty { current.append((x0, baseline)) }
            current += [(x0, py), (x1, py)]
        }
        if !current.isEmpty { current.append((current[current.count - 1].0, baseline)); runs.append(current) }
        for run in runs {
            if histogramStyle == .filled {
                setColor(color.withAlpha(color.alpha * series.fillOpacity))
                polygonPath(run)
                cairo_fill(context)
            }
            setColor(color)
            polyline(run)
            cairo_stroke(context)
        }
        if let errors {
            setColor(color)
            cairo_set_line_width(context, max(series.lineWidth * 0.8, 0.8))
            for bin in 0..<min(bins, errors.count) where contents[bin].isFinite && errors[bin].isFinite {
                let px = box.pixelX((edges[bin] + edges[bin + 1]) / 2)
                line(px, box.pixelY(contents[bin] - errors[bin]), px, box.pixelY(contents[bin] + errors[bin]))
            }
        }
    }

    private func drawMarkers(x: [Double], y: [Double], yErrors: [Double]?, xHalfWidths: [Double]?, size: Double, box: AxesLayout) {
        cairo_set_line_width(context, 1)
        for index in 0..<min(x.count, y.count) {
            let px = box.pixelX(x[index]), py = box.pixelY(y[index])
            guard x[index].isFinite, y[index].isFinite, px.isFinite, py.isFinite else { continue }
            if let yErrors, index < yErrors.count, yErrors[index].isFinite, yErrors[index] > 0 {
                line(px, box.pixelY(y[index] - yErrors[index]), px, box.pixelY(y[index] + yErrors[index]))
            }
            if let xHalfWidths, index < xHalfWidths.count {
                line(box.pixelX(x[index] - xHalfWidths[index]), py, box.pixelX(x[index] + xHalfWidths[index]), py)
            }
            cairo_new_sub_path(context)
            cairo_arc(context, px, py, size / 2, 0, 2 * .pi)
            cairo_fill(context)
        }
    }

    private func drawPolygons(_ map: PolygonMap, scale: ColorScale, box: AxesLayout) {
        for (index, polygon) in map.polygons.enumerated() {
            let masked = map.mask.map { index < $0.count && $0[index] } ?? false
            let fill = masked ? map.inactiveColor : (index < map.values.count ? scale.color(for: map.values[index]) : nil)
            polygonPath(polygon.map { (box.pixelX($0.x), box.pixelY($0.y)) })
            if let fill {
                setColor(fill)
                cairo_fill_preserve(context)
            }
            if let edge = map.edgeColor {
                setColor(edge)
                cairo_set_line_width(context, 0.8)
                cairo_stroke(context)
            }
            cairo_new_path(context)
        }
    }

    private func drawHeatmap(_ map: Heatmap, scale: ColorScale, box: AxesLayout) {
        cairo_set_antialias(context, CAIRO_ANTIALIAS_NONE)
        for row in 0..<map.rows {
            let y0 = box.pixelY(map.yEdges[row]), y1 = box.pixelY(map.yEdges[row + 1])
            // Neighbouring cells of one colour become one rectangle: smaller SVG/PDF, no seams.
            var runStart = 0
            var runColor: Color?
            func flush(_ end: Int) {
                guard let color = runColor, end > runStart else { return }
                let x0 = box.pixelX(map.xEdges[runStart]), x1 = box.pixelX(map.xEdges[end])
                setColor(color)
                cairo_rectangle(context, min(x0, x1), min(y0, y1), abs(x1 - x0), abs(y1 - y0))
                cairo_fill(context)
            }
            for column in 0..<map.columns {
                var color: Color?
                if map.isMasked(row: row, column: column) {
                    color = map.inactiveColor
                } else if let value = map.value(row: row, column: column) {
                    color = scale.color(for: value)
                }
                if color != runColor || column == 0 {
                    flush(column)
                    runStart = column
                    runColor = color
                }
            }
            flush(map.columns)
        }
        cairo_set_antialias(context, CAIRO_ANTIALIAS_DEFAULT)
        if map.showsCellGrid {
            setColor(Color.white.withAlpha(0.9))
            cairo_set_line_width(context, 0.6)
            for edge in map.xEdges { line(box.pixelX(edge), box.pixelY(map.yEdges.first ?? 0), box.pixelX(edge), box.pixelY(map.yEdges.last ?? 0)) }
            for edge in map.yEdges { line(box.pixelX(map.xEdges.first ?? 0), box.pixelY(edge), box.pixelX(map.xEdges.last ?? 0), box.pixelY(edge)) }
        }
    }

    private func drawColorbar(_ bar: ColorbarLayout) {
        let f = bar.frame
        let steps = max(Int(f.height), 2)
        cairo_set_antialias(context, CAIRO_ANTIALIAS_NONE)
        for step in 0..<steps {
            let t0 = Double(step) / Double(steps)
            setColor(bar.colorScale.map.color(at: t0 + 0.5 / Double(steps)))
            cairo_rectangle(context, f.x, f.maxY - (t0 + 1 / Double(steps)) * f.height, f.width, f.height / Double(steps) + 0.5)
            cairo_fill(context)
        }
        cairo_set_antialias(context, CAIRO_ANTIALIAS_DEFAULT)
        setColor(style.foreground)
        cairo_set_line_width(context, style.frameWidth)
        cairo_rectangle(context, f.x, f.y, f.width, f.height)
        cairo_stroke(context)
        cairo_set_line_width(context, style.frameWidth * 0.8)
        func tick(_ value: Double, length: Double) {
            let py = f.maxY - bar.axis.fraction(value) * f.height
            guard py >= f.y - 0.01, py <= f.maxY + 0.01 else { return }
            line(f.maxX, py, f.maxX - length, py)
        }
        bar.axis.ticks.majors.forEach { tick($0.value, length: style.majorTickLength * 0.8) }
        bar.axis.ticks.minors.forEach { tick($0, length: style.minorTickLength * 0.8) }
        for label in bar.axis.tickLabels { drawText(label) }
        for label in [bar.axis.offsetLabel, bar.axis.title].compactMap({ $0 }) { drawText(label) }
    }

    private func drawLegend(_ legend: LegendLayout, axes: Axes) {
        let f = legend.frame
        setColor(style.background.withAlpha(0.8))
        cairo_rectangle(context, f.x, f.y, f.width, f.height)
        cairo_fill(context)
        if let title = legend.title { drawText(title) }
        for entry in legend.entries {
            let series = axes.series[entry.seriesIndex]
            let s = entry.symbolFrame
            let middle = s.y + s.height / 2
            cairo_set_line_width(context, series.lineWidth)
            series.dash.withUnsafeBufferPointer { cairo_set_dash(context, $0.baseAddress, Int32($0.count), 0) }
            switch series.kind {
            case .band:
                setColor(entry.color.withAlpha(entry.color.alpha * series.fillOpacity))
                cairo_rectangle(context, s.x, s.y, s.width, s.height)
                cairo_fill(context)
            case .histogram(_, _, _, .filled):
                setColor(entry.color.withAlpha(entry.color.alpha * series.fillOpacity))
                cairo_rectangle(context, s.x, s.y, s.width, s.height)
                cairo_fill(context)
                setColor(entry.color)
                cairo_rectangle(context, s.x, s.y, s.width, s.height)
                cairo_stroke(context)
            case .histogram(_, _, _, .points), .scatter:
                setColor(entry.color)
                cairo_set_line_width(context, 1)
                line(s.x + s.width / 2, s.y, s.x + s.width / 2, s.maxY)
                cairo_new_sub_path(context)
                cairo_arc(context, s.x + s.width / 2, middle, series.markerSize / 2, 0, 2 * .pi)
                cairo_fill(context)
            default:
                setColor(entry.color)
                line(s.x, middle, s.maxX, middle)
            }
            cairo_set_dash(context, nil, 0, 0)
            drawText(entry.label)
        }
    }

    // MARK: Primitives

    private func setColor(_ color: Color) {
        cairo_set_source_rgba(context, color.red, color.green, color.blue, color.alpha)
    }

    private func line(_ x0: Double, _ y0: Double, _ x1: Double, _ y1: Double) {
        guard x0.isFinite, y0.isFinite, x1.isFinite, y1.isFinite else { return }
        cairo_move_to(context, x0, y0)
        cairo_line_to(context, x1, y1)
        cairo_stroke(context)
    }

    /// Adds a path through the finite points; a non-finite point breaks the line.
    private func polyline(_ points: [(Double, Double)]) {
        var drawing = false
        for (x, y) in points {
            guard x.isFinite, y.isFinite else { drawing = false; continue }
            if drawing { cairo_line_to(context, x, y) } else { cairo_move_to(context, x, y) }
            drawing = true
        }
    }

    private func polygonPath(_ points: [(Double, Double)]) {
        let finite = points.filter { $0.0.isFinite && $0.1.isFinite }
        guard finite.count > 2 else { return }
        polyline(finite)
        cairo_close_path(context)
    }

    func drawText(_ text: PlacedText) {
        let runs = TextMarkup.runs(text.text)
        guard !runs.isEmpty else { return }
        let face = Typeface(family: style.fontFamily, bold: text.bold)
        let width = face.width(of: text.text, size: text.size, context: context)
        let metrics = face.verticalMetrics(size: text.size, context: context)
        var x: Double
        switch text.horizontal {
        case .left: x = 0
        case .center: x = -width / 2
        case .right: x = -width
        }
        let baseline: Double
        switch text.vertical {
        case .top: baseline = metrics.ascent
        case .middle: baseline = (metrics.ascent - metrics.descent) / 2
        case .baseline: baseline = 0
        case .bottom: baseline = -metrics.descent
        }
        cairo_save(context)
        cairo_translate(context, text.x, text.y)
        cairo_rotate(context, -text.rotation)
        setColor(text.color)
        for run in runs {
            face.apply(to: context, size: text.size * run.scale)
            cairo_move_to(context, x, baseline - run.rise * text.size)
            cairo_show_text(context, run.text)
            var extents = cairo_text_extents_t()
            cairo_text_extents(context, run.text, &extents)
            x += extents.x_advance
        }
        cairo_restore(context)
    }
}
