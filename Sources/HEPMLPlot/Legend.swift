import Foundation

/// Sizes a legend and puts it where it hides the least data: every candidate position is scored
/// by the number of sampled data points (curve outlines, markers, filled areas) under its box.
struct LegendPlacer {
    let style: Style
    let measurer: TextMeasurer
    let padding = 5.0
    let symbolWidth = 22.0
    let symbolGap = 6.0
    let inset = 8.0

    func legend(for axes: Axes, in layout: AxesLayout) -> LegendLayout? {
        let labelled = axes.series.enumerated().filter { $0.element.label != nil && $0.element.isLegendable }
        guard !labelled.isEmpty else { return nil }
        let rowHeight = style.legendSize * 1.45
        let titleWidth = axes.legendTitle.map { measurer.width($0, size: style.legendSize, bold: true) } ?? 0
        let labelWidth = labelled.map { measurer.width($0.element.label ?? "", size: style.legendSize) }.max() ?? 0
        let width = max(symbolWidth + symbolGap + labelWidth, titleWidth) + 2 * padding
        let rows = Double(labelled.count + (axes.legendTitle != nil ? 1 : 0))
        let height = rows * rowHeight + 2 * padding
        let frame = position(axes.legend, width: width, height: height, axes: axes, layout: layout)

        var title: PlacedText?
        var rowTop = frame.y + padding
        if let text = axes.legendTitle {
            title = PlacedText(text: text, x: frame.x + padding, y: rowTop + rowHeight / 2, size: style.legendSize,
                               horizontal: .left, vertical: .middle, rotation: 0, bold: true, color: style.foreground)
            rowTop += rowHeight
        }
        var entries: [LegendEntry] = []
        for (index, series) in labelled {
            let middle = rowTop + rowHeight / 2
            let symbol = Rect(x: frame.x + padding, y: middle - rowHeight * 0.32, width: symbolWidth, height: rowHeight * 0.64)
            let label = PlacedText(text: series.label ?? "", x: symbol.maxX + symbolGap, y: middle, size: style.legendSize,
                                   horizontal: .left, vertical: .middle, rotation: 0, bold: false, color: style.foreground)
            entries.append(LegendEntry(seriesIndex: index, label: label, symbolFrame: symbol, color: layout.seriesColors[index]))
            rowTop += rowHeight
        }
        return LegendLayout(frame: frame, title: title, entries: entries)
    }

    private func candidate(_ placement: LegendPlacement, width: Double, height: Double, frame: Rect) -> Rect? {
        let left = frame.x + inset, right = frame.maxX - inset - width
        let top = frame.y + inset, bottom = frame.maxY - inset - height
        switch placement {
        case .upperRight: return Rect(x: right, y: top, width: width, height: height)
        case .upperLeft: return Rect(x: left, y: top, width: width, height: height)
        case .lowerRight: return Rect(x: right, y: bottom, width: width, height: height)
        case .lowerLeft: return Rect(x: left, y: bottom, width: width, height: height)
        case .best, .hidden: return nil
        }
    }

    private func position(_ placement: LegendPlacement, width: Double, height: Double, axes: Axes, layout: AxesLayout) -> Rect {
        if let fixed = candidate(placement, width: width, height: height, frame: layout.frame) { return fixed }
        let order: [LegendPlacement] = [.upperRight, .upperLeft, .lowerRight, .lowerLeft]
        let points = DataSampler.points(axes: axes, layout: layout)
        var best: (rect: Rect, covered: Int)?
        for placement in order {
            guard let rect = candidate(placement, width: width, height: height, frame: layout.frame) else { continue }
            let covered = points.reduce(0) { $0 + (rect.contains(x: $1.x, y: $1.y) ? 1 : 0) }
            if best == nil || covered < (best?.covered ?? 0) { best = (rect, covered) }
            if covered == 0 { break }
        }
        return best?.rect ?? Rect(x: layout.frame.x, y: layout.frame.y, width: width, height: height)
    }
}

/// Points (in figure coordinates) that stand for where an axes shows data.
enum DataSampler {
    static let spacing = 4.0

    static func points(axes: Axes, layout: AxesLayout) -> [(x: Double, y: Double)] {
        var points: [(x: Double, y: Double)] = []
        func polyline(_ xs: [Double], _ ys: [Double]) {
            var previous: (x: Double, y: Double)?
            for (vx, vy) in zip(xs, ys) {
                let p = (x: layout.pixelX(vx), y: layout.pixelY(vy))
                guard p.x.isFinite, p.y.isFinite else { previous = nil; continue }
                if let q = previous {
                    let steps = min(Int(hypot(p.x - q.x, p.y - q.y) / spacing), 2000)
                    if steps > 1 {
                        for s in 1..<steps {
                            let t = Double(s) / Double(steps)
                            points.append((q.x + (p.x - q.x) * t, q.y + (p.y - q.y) * t))
                        }
                    }
                }
                points.append(p)
                previous = p
            }
        }
        /// A filled region between two pixel heights at one pixel column.
        func column(_ px: Double, from y0: Double, to y1: Double) {
            guard px.isFinite, y0.isFinite, y1.isFinite else { return }
            var y = min(y0, y1)
            while y <= max(y0, y1) && points.count < 200_000 {
                points.append((px, y))
                y += spacing * 2
            }
        }
        for series in axes.series {
            switch series.kind {
            case .line(let x, let y):
                polyline(x, y)
            case .scatter(let x, let y, _):
                for (vx, vy) in zip(x, y) { points.append((layout.pixelX(vx), layout.pixelY(vy))) }
            case .band(let x, let lower, let upper):
                polyline(x, upper)
                polyline(x, lower)
                for (vx, (lo, hi)) in zip(x, zip(lower, upper)) { column(layout.pixelX(vx), from: layout.pixelY(lo), to: layout.pixelY(hi)) }
            case .histogram(let edges, let contents, _, let style):
                var xs: [Double] = [], ys: [Double] = []
                for (bin, value) in contents.enumerated() where bin + 1 < edges.count {
                    xs += [edges[bin], edges[bin + 1]]
                    ys += [value, value]
                    if style == .filled {
                        var px = layout.pixelX(edges[bin])
                        let end = layout.pixelX(edges[bin + 1])
                        let baseline = layout.y.scale == .log ? layout.frame.maxY : layout.pixelY(0)
                        while px <= end && points.count < 200_000 {
                            column(px, from: layout.pixelY(value), to: baseline)
                            px += spacing * 2
                        }
                    }
                }
                polyline(xs, ys)
            case .horizontalLine(let y):
                polyline([layout.x.range.lowerBound, layout.x.range.upperBound], [y, y])
            case .verticalLine(let x):
                polyline([x, x], [layout.y.range.lowerBound, layout.y.range.upperBound])
            case .text, .heatmap, .polygons:
                break
            }
        }
        return points
    }
}
