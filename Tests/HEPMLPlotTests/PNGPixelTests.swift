import Foundation
@testable import HEPMLPlot
import HEPMLTestSupport
import Testing

@Suite struct PNGPixelTests {
    private func render(_ figure: Figure, dpi: Double) throws -> (png: DecodedPNG, directory: URL) {
        let directory = try TestEnvironment.temporaryDirectory("hepml-png")
        let path = directory.appendingPathComponent("figure.png").path
        try figure.save(to: path, dpi: dpi)
        let png = try #require(DecodedPNG(path: path))
        return (png, directory)
    }

    @Test func sizeFollowsDPIAndImageIsNotBlank() throws {
        let figure = SVGStructureTests.scoreFigure()
        for dpi in [72.0, 144.0] {
            let (png, directory) = try render(figure, dpi: dpi)
            defer { try? FileManager.default.removeItem(at: directory) }
            #expect(png.width == Int((460 * dpi / 72).rounded(.up)))
            #expect(png.height == Int((345 * dpi / 72).rounded(.up)))
            #expect(png.nonBackgroundFraction > 0.02)
            #expect(png.distinctColorCount > 20)  // antialiased text and lines, two series colours
            #expect(png.hex(x: 0, y: 0) == "#ffffff")
        }
    }

    @Test func filledBarHasItsColour() throws {
        let barColor = Color(hex: 0x3F90DA)
        let figure = Figure(Axes(series: [.histogram(edges: [0, 1, 2, 3], contents: [1, 5, 2], style: .filled, color: barColor, fillOpacity: 1)],
                                 legend: .hidden))
        let scale = 2.0
        let (png, directory) = try render(figure, dpi: 72 * scale)
        defer { try? FileManager.default.removeItem(at: directory) }
        let box = figure.layout().axes[0]
        let inside = (x: Int(box.pixelX(1.5) * scale), y: Int(box.pixelY(2.5) * scale))
        #expect(png.hex(x: inside.x, y: inside.y) == barColor.hexString)
        // Above the first bar (height 1) is background.
        #expect(png.hex(x: Int(box.pixelX(0.5) * scale), y: Int(box.pixelY(3) * scale)) == "#ffffff")
    }

    @Test func maskedCellsUseTheInactiveColour() throws {
        // 4 columns × 3 rows; values rise with the index; cell (row 1, column 2) is masked.
        var mask = [Bool](repeating: false, count: 12)
        mask[1 * 4 + 2] = true
        let map = Heatmap(columns: 4, rows: 3, values: (0..<12).map(Double.init), mask: mask)
        let figure = Figure(Axes(series: [.heatmap(map)], legend: .hidden))
        let scale = 2.0
        let (png, directory) = try render(figure, dpi: 72 * scale)
        defer { try? FileManager.default.removeItem(at: directory) }
        let box = figure.layout().axes[0]
        func cell(_ row: Int, _ column: Int) -> String {
            png.hex(x: Int(box.pixelX(Double(column) + 0.5) * scale), y: Int(box.pixelY(Double(row) + 0.5) * scale))
        }
        #expect(cell(1, 2) == Color.inactive.hexString)
        #expect(cell(0, 0) == ColorMap.viridis.color(at: 0).hexString)
        #expect(cell(2, 3) == ColorMap.viridis.color(at: 1).hexString)
        // Unmasked cells never take the inactive colour.
        for row in 0..<3 {
            for column in 0..<4 where !(row == 1 && column == 2) {
                #expect(cell(row, column) != Color.inactive.hexString)
            }
        }
    }

    @Test func polygonCellsAreFilledByValueAndMask() throws {
        let cells = Gallery.waferCells()
        var mask = [Bool](repeating: false, count: 48)
        mask[5] = true
        let values = (0..<48).map(Double.init)
        let map = PolygonMap(polygons: cells, values: values, mask: mask, edgeColor: nil)
        let figure = Figure(Axes(series: [.polygons(map)], legend: .hidden, equalAspect: true))
        let scale = 2.0
        let (png, directory) = try render(figure, dpi: 72 * scale)
        defer { try? FileManager.default.removeItem(at: directory) }
        let box = figure.layout().axes[0]
        func centre(_ cell: Int) -> String {
            let x = cells[cell].map(\.x).reduce(0, +) / 4, y = cells[cell].map(\.y).reduce(0, +) / 4
            return png.hex(x: Int(box.pixelX(x) * scale), y: Int(box.pixelY(y) * scale))
        }
        #expect(centre(5) == Color.inactive.hexString)
        #expect(centre(0) == ColorMap.viridis.color(at: 0).hexString)
        #expect(centre(47) == ColorMap.viridis.color(at: 1).hexString)
        #expect(figure.layout().axes[0].colorbar != nil)
    }

    @Test func logColorScaleLeavesNonPositiveCellsEmpty() throws {
        let map = Heatmap(columns: 2, rows: 1, values: [0, 100], colorScale: ColorScale(scale: .log))
        let figure = Figure(Axes(series: [.heatmap(map)], legend: .hidden))
        let (png, directory) = try render(figure, dpi: 72)
        defer { try? FileManager.default.removeItem(at: directory) }
        let box = figure.layout().axes[0]
        #expect(png.hex(x: Int(box.pixelX(0.5)), y: Int(box.pixelY(0.5))) == "#ffffff")
        #expect(png.hex(x: Int(box.pixelX(1.5)), y: Int(box.pixelY(0.5))) != "#ffffff")
    }

    @Test func saveWritesAtomicallyAndByExtension() throws {
        let directory = try TestEnvironment.temporaryDirectory("hepml-save")
        defer { try? FileManager.default.removeItem(at: directory) }
        let figure = SVGStructureTests.scoreFigure()
        for ext in ["PNG", "svg", "pdf"] {
            try figure.save(to: directory.appendingPathComponent("nested/figure.\(ext)").path)
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.appendingPathComponent("nested").path).sorted()
        #expect(files == ["figure.PNG", "figure.pdf", "figure.svg"])  // no temporary files left behind
        let pdf = try Data(contentsOf: directory.appendingPathComponent("nested/figure.pdf"))
        #expect(pdf.starts(with: Array("%PDF".utf8)))
    }
}
