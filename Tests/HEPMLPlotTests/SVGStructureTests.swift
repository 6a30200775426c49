import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import HEPMLMetrics
@testable import HEPMLPlot
import Testing

/// Collects every element of an XML document with its attributes, in document order.
private final class ElementCollector: NSObject, XMLParserDelegate {
    var elements: [(name: String, attributes: [String: String])] = []

    func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                qualifiedName: String?, attributes: [String: String] = [:]) {
        elements.append((elementName, attributes))
    }

    func named(_ name: String) -> [[String: String]] { elements.filter { $0.name == name }.map(\.attributes) }
}

/// The way cairo's SVG writer spells a colour inside a style attribute, e.g. `rgb(34.117647%,56.470588%,98.823529%)`.
func cairoSVGColor(_ color: Color) -> String {
    func percent(_ value: Double) -> String {
        var text = String(format: "%f", value * 100)
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text + "%"
    }
    return "rgb(\(percent(color.red)),\(percent(color.green)),\(percent(color.blue)))"
}

@Suite struct SVGStructureTests {
    static func scoreFigure() -> Figure {
        let edges = (0...10).map { Double($0) / 10 }
        let good = [9.0, 7, 5, 3, 2, 1, 0.5, 0.2, 0.1, 0]
        let bad = [0.0, 0.5, 1, 2, 3, 4, 5, 4, 3, 2]
        let axes = Axes(title: "Scores", xLabel: "Anomaly score", yLabel: "Runs", xLimits: 0...1, yLimits: 0...10,
                        series: [.histogram(edges: edges, contents: good, label: "good runs"),
                                 .histogram(edges: edges, contents: bad, style: .filled, label: "bad runs"),
                                 .line(x: [0, 1], y: [5, 5]),
                                 .verticalLine(at: 0.5)])
        return Figure(axes)
    }

    private func parse(_ bytes: [UInt8]) throws -> ElementCollector {
        let parser = XMLParser(data: Data(bytes))
        let collector = ElementCollector()
        parser.delegate = collector
        #expect(parser.parse(), "SVG is not well-formed XML: \(String(describing: parser.parserError))")
        return collector
    }

    @Test func svgDescribesAxesTicksSeriesAndLegend() throws {
        let figure = Self.scoreFigure()
        let svg = try figure.render(.svg)
        let document = try parse(svg)

        let root = try #require(document.named("svg").first)
        #expect(root["width"] == "460pt" && root["height"] == "345pt")
        let axes = document.named("hepml:axes")
        #expect(axes.count == 1)
        #expect(axes.first?["title"] == "Scores")
        #expect(axes.first?["x-label"] == "Anomaly score")
        #expect(axes.first?["y-label"] == "Runs")
        #expect(axes.first?["series"] == "4")
        #expect(document.named("hepml:series").count == 4)

        // Tick labels in document order: the x axis first, then the y axis.
        let ticks = document.named("hepml:tick").compactMap { $0["label"] }
        #expect(ticks == ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0", "0", "2", "4", "6", "8", "10"])
        #expect(document.named("hepml:entry").compactMap { $0["label"] } == ["good runs", "bad runs"])
    }

    @Test func cairoDrawingContainsEverySeriesAndEveryGlyph() throws {
        let figure = Self.scoreFigure()
        let layout = figure.layout()
        let text = String(decoding: try figure.render(.svg), as: UTF8.self)
        let box = try #require(layout.axes.first)

        // Each labelled series is stroked twice in its colour: in the plot and as a legend symbol.
        for index in 0..<2 {
            let stroke = "stroke:" + cairoSVGColor(box.seriesColors[index])
            #expect(text.components(separatedBy: stroke).count - 1 >= 2, "series \(index) colour \(stroke) drawn too rarely")
        }
        #expect(box.seriesColors[0] != box.seriesColors[1])
        // The filled histogram's translucent fill.
        #expect(text.contains("fill:" + cairoSVGColor(box.seriesColors[1]) + ";fill-opacity:0.35"))
        // Dashed reference line.
        #expect(text.contains("stroke-dasharray:4,3"))

        // Cairo writes text as glyph references: at least one per visible character.
        let glyphs = text.components(separatedBy: "<use xlink:href=\"#glyph").count - 1
        let characters = layout.texts.map { $0.plainText.filter { !$0.isWhitespace }.count }.reduce(0, +)
        #expect(characters > 30)
        #expect(glyphs >= characters)
    }

    @Test func subpanelSharesXAndOnlyItCarriesXTickLabels() throws {
        let edges = [0.0, 1, 2, 3, 4]
        let figure = Figure.comparison(edges: edges, reference: [1, 2, 3, 2], candidates: [(label: "reco", contents: [1.1, 1.9, 3.2, 1.8])],
                                       xLabel: "x", yLabel: "y")
        let document = try parse(try figure.render(.svg))
        let axes = document.named("hepml:axes")
        #expect(axes.map { $0["role"] } == ["main", "subpanel"])
        #expect(axes[1]["x-label"] == "x" && axes[0]["x-label"] == nil)
        let xAxes = document.named("hepml:axis").filter { $0["name"] == "x" }
        #expect(xAxes.count == 2 && xAxes[0]["min"] == xAxes[1]["min"] && xAxes[0]["max"] == xAxes[1]["max"])

        let layout = figure.layout()
        #expect(layout.axes[0].x.tickLabels.isEmpty)
        #expect(layout.axes[1].x.tickLabels.map(\.plainText) == ["0", "1", "2", "3", "4"])
        // Stacked without a gap, same width.
        #expect(abs(layout.axes[0].frame.maxY - layout.axes[1].frame.y) < 1e-9)
        #expect(layout.axes[0].frame.width == layout.axes[1].frame.width)
    }

    @Test func imageGridSharesOneColorbarAndAlignsPanels() throws {
        let maps = (0..<7).map { depth in
            Heatmap(columns: 4, rows: 3, values: (0..<12).map { Double($0 * (depth + 1)) })
        }
        let figure = Figure.imageGrid(maps, titles: (1...7).map { "Depth \($0)" }, columns: 4, colorbarLabel: "Occupancy")
        let layout = figure.layout()
        #expect(layout.axes.count == 7)
        #expect(layout.sharedColorbar != nil)
        #expect(layout.axes.allSatisfy { $0.colorbar == nil })
        // Shared range: from the smallest to the largest value over all panels.
        #expect(layout.sharedColorbar?.colorScale.range == 0...77)
        // Consistent sizes and aligned columns.
        #expect(Set(layout.axes.map { $0.frame.width }).count == 1)
        #expect(Set(layout.axes.map { $0.frame.height }).count == 1)
        #expect(layout.axes[0].frame.x == layout.axes[4].frame.x)
        let document = try parse(try figure.render(.svg))
        #expect(document.named("hepml:colorbar").first?["label"] == "Occupancy")
        #expect(document.named("hepml:axes").compactMap { $0["title"] } == (1...7).map { "Depth \($0)" })
    }

    @Test func legendAvoidsTheData() {
        // The curve fills the upper right and lower left corners.
        let x = (0...50).map { Double($0) / 50 }
        let rising = Figure(Axes(xLimits: 0...1, yLimits: 0...1, series: [.line(x: x, y: x, label: "diagonal")]))
        let layout = rising.layout()
        guard let legend = layout.axes[0].legend else {
            Issue.record("no legend")
            return
        }
        let frame = layout.axes[0].frame
        let centreX = legend.frame.x + legend.frame.width / 2, centreY = legend.frame.y + legend.frame.height / 2
        let upperLeft = centreX < frame.x + frame.width / 2 && centreY < frame.y + frame.height / 2
        let lowerRight = centreX > frame.x + frame.width / 2 && centreY > frame.y + frame.height / 2
        #expect(upperLeft || lowerRight)
        // Falling data leaves the upper right free: the preferred corner.
        let falling = Figure(Axes(xLimits: 0...1, yLimits: 0...1, series: [.line(x: x, y: x.map { 1 - $0 }, label: "falling")]))
        let fallingLayout = falling.layout()
        if let box = fallingLayout.axes[0].legend?.frame {
            #expect(box.maxX > fallingLayout.axes[0].frame.x + fallingLayout.axes[0].frame.width / 2)
            #expect(box.y < fallingLayout.axes[0].frame.y + fallingLayout.axes[0].frame.height / 2)
        } else {
            Issue.record("no legend")
        }
    }

    /// A 2×3 histogram flattened x-major (cell (ix, iy) at ix * 3 + iy) becomes rows along y.
    @Test func xMajorCellsBecomeRowsAlongY() {
        let xMajor: [Double] = [0, 1, 2, 10, 11, 12]
        #expect(Heatmap.rowsAlongY(xMajor: xMajor, columns: 2, rows: 3) == [0, 10, 1, 11, 2, 12])
        #expect(Heatmap.rowsAlongY(xMajor: xMajor, columns: 2, rows: 2).isEmpty)
    }

    @Test func histogramsAreTightInXAndStartAtZero() {
        let figure = Figure.histogram(edges: [-2, -1, 0, 1, 2], contents: [3, 8, 6, 1], label: "h")
        let box = figure.layout().axes[0]
        #expect(box.x.range == -2...2)
        #expect(box.y.range.lowerBound == 0)
        #expect(box.y.range.upperBound > 8)  // headroom for the legend
    }

    @Test func logAxisHasDecadeLabelsAndMinorTicks() throws {
        let curve = try ROCCurve(scores: [3, 2, 1, 0], isPositive: [true, false, true, false])
        let box = Figure.roc([ROCSeries(curve)], logX: true).layout().axes[0]
        #expect(box.x.scale == .log && box.x.range == 0.005...1)
        #expect(box.x.tickLabels.map(\.plainText) == ["10\u{2212}2", "10\u{2212}1", "100"])
        #expect(box.x.ticks.minors.count == 21)  // 0.005…0.009 (5), 0.02…0.09 (8), 0.2…0.9 (8)
    }

    /// Degenerate input (empty series, mismatched lengths, NaN, huge values, zero on log axes)
    /// renders without crashing.
    @Test func degenerateDataStillRenders() throws {
        let axes = Axes(xScale: .log, yScale: .log, series: [
            .line(x: [], y: []),
            .line(x: [0, 1, .nan, 1e300], y: [-1, .infinity, 2]),
            .histogram(edges: [0, 1], contents: [1, 2, 3], errors: [1]),
            .histogram(edges: [1, 2, 3, 4], contents: [0, .nan, 5], style: .points),
            .band(x: [1, 2, 3], lower: [1], upper: [2, 3]),
            .heatmap(Heatmap(xEdges: [0, 1, 2], yEdges: [0, 1], values: [1], mask: [true, true, true])),
        ])
        for figure in [Figure(axes), Figure(Axes(xLimits: 5...5, series: [.scatter(x: [1e18], y: [1e18])])), Figure()] {
            #expect(try figure.render(.svg).count > 100)
            #expect(try figure.render(.png(dpi: 30)).count > 100)
        }
        #expect(throws: PlotError.self) { try Figure(width: .nan).render(.pdf) }
    }

    @Test func unknownExtensionIsRejected() {
        #expect(throws: PlotError.self) { try Self.scoreFigure().save(to: "/tmp/figure.gif") }
    }
}
