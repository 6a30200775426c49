import Foundation

/// Automatic axis limits: histograms and heatmaps are tight in x (bin edges are the natural
/// limits), histograms start at zero in y, scatter plots get a 5 % margin so edge markers are
/// whole, and labelled series leave headroom at the top for the legend.
struct DataRanges {
    var x: ClosedRange<Double>
    var y: ClosedRange<Double>

    private struct Extent {
        var low = Double.infinity
        var high = -Double.infinity
        let scale: AxisScale

        mutating func add(_ value: Double) {
            guard value.isFinite, scale == .linear || value > 0 else { return }
            low = min(low, value)
            high = max(high, value)
        }

        mutating func add(_ values: [Double]) { values.forEach { add($0) } }

        var range: ClosedRange<Double>? { low <= high ? low...high : nil }
    }

    init(axes: Axes, hasLegend: Bool) {
        var xs = Extent(scale: axes.xScale)
        var ys = Extent(scale: axes.yScale)
        var padX = false
        var histogramBaseline = false
        var tightY = false
        for series in axes.series {
            switch series.kind {
            case .line(let x, let y):
                xs.add(x); ys.add(y)
            case .scatter(let x, let y, let errors):
                padX = true
                xs.add(x); ys.add(y)
                if let errors {
                    for (value, error) in zip(y, errors) { ys.add(value - error); ys.add(value + error) }
                }
            case .band(let x, let lower, let upper):
                xs.add(x); ys.add(lower); ys.add(upper)
            case .histogram(let edges, let contents, let errors, _):
                xs.add(edges)
                ys.add(contents)
                if let errors {
                    for (value, error) in zip(contents, errors) { ys.add(value - error); ys.add(value + error) }
                }
                histogramBaseline = true
            case .horizontalLine(let y):
                ys.add(y)
            case .verticalLine(let x):
                xs.add(x)
            case .heatmap(let map):
                xs.add(map.xEdges); ys.add(map.yEdges)
                tightY = true
            case .polygons(let map):
                for polygon in map.polygons {
                    xs.add(polygon.map(\.x)); ys.add(polygon.map(\.y))
                }
                tightY = true
            case .text:
                break
            }
        }
        x = LayoutEngine.validRange(axes.xLimits, scale: axes.xScale)
            ?? Self.pad(xs.range, scale: axes.xScale, below: padX ? 0.05 : 0, above: padX ? 0.05 : 0)
        if let given = LayoutEngine.validRange(axes.yLimits, scale: axes.yScale) {
            y = given
        } else if tightY {
            y = Self.pad(ys.range, scale: axes.yScale, below: 0, above: 0)
        } else {
            var data = ys.range
            if histogramBaseline, axes.yScale == .linear, let range = data, range.lowerBound >= 0 {
                data = 0...range.upperBound
            }
            let below = data?.lowerBound == 0 && axes.yScale == .linear ? 0 : 0.05
            y = Self.pad(data, scale: axes.yScale, below: below, above: hasLegend ? 0.3 : 0.06)
        }
    }

    private static func pad(_ range: ClosedRange<Double>?, scale: AxisScale, below: Double, above: Double) -> ClosedRange<Double> {
        guard let range else { return scale == .log ? 1...10 : 0...1 }
        let widened = LayoutEngine.widenDegenerate(range, scale: scale)
        switch scale {
        case .linear:
            let span = widened.upperBound - widened.lowerBound
            return (widened.lowerBound - span * below)...(widened.upperBound + span * above)
        case .log:
            let decades = log10(widened.upperBound / widened.lowerBound)
            return (widened.lowerBound / pow(10, decades * below))...(widened.upperBound * pow(10, decades * above * 1.5))
        }
    }
}
