import Foundation
import HEPMLColumnar
import HEPMLTestSupport
import Testing

@Suite struct PlotCommandTests {
    @Test(.requiresShared) func drawsROOTHistogramsInEveryFormat() throws {
        let file = try TestEnvironment.rootTestFile("histograms1d2d.root")
        let hepml = try #require(TestEnvironment.hepmlExecutable)
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        for (object, name) in [("myTH1F", "one.png"), ("myTH2D", "map.svg"), ("myTH1D_nonuniform", "variable.pdf")] {
            let output = directory.appendingPathComponent(name).path
            let result = try TestEnvironment.run(hepml, ["plot", "\(file.path):\(object)", "-o", output])
            #expect(result.status == 0, "\(result.output)")
            let bytes = try Data(contentsOf: URL(fileURLWithPath: output))
            #expect(bytes.count > 1000)
        }
        let svg = try String(contentsOf: directory.appendingPathComponent("map.svg"), encoding: .utf8)
        #expect(svg.contains("myTH2D"))
        let png = try Data(contentsOf: directory.appendingPathComponent("one.png"))
        #expect(png.prefix(8) == Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
    }

    /// A TH3 is drawn as its x, y and z projections, side by side.
    @Test(.requiresShared) func drawsTH3AsProjections() throws {
        let file = try TestEnvironment.rootTestFile("TH3D.root")
        let hepml = try #require(TestEnvironment.hepmlExecutable)
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = directory.appendingPathComponent("cube.svg").path
        let result = try TestEnvironment.run(hepml, ["plot", "\(file.path):histogram", "-o", output])
        #expect(result.status == 0, "\(result.output)")
        let svg = try String(contentsOfFile: output, encoding: .utf8)
        #expect(["projection on x", "projection on y", "projection on z"].allSatisfy(svg.contains))
    }

    @Test func drawsTableCellsAndRefusesBadRows() throws {
        let hepml = try #require(TestEnvironment.hepmlExecutable)
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        // Two runs: a 1D histogram of 3 bins and a 2×2 map per run, as AutoDQM_ML stores them.
        let hist1D = try Column(name: "L1T/h1", values: .float32([1, 2, 3, 4, 5, 6]), listOffsets: [[0, 3, 6]])
        let hist2D = try Column(name: "L1T/h2", values: .float32([1, 2, 3, 4, 5, 6, 7, 8]), listOffsets: [[0, 2, 4], [0, 2, 4, 6, 8]])
        let table = try Table(columns: [hist1D, hist2D, try Column(name: "run_number", int64: [1, 2])])
        let path = directory.appendingPathComponent("runs.parquet").path
        try TableFile.write(table, to: path)

        for column in ["L1T/h1", "L1T/h2"] {
            let output = directory.appendingPathComponent("cell.svg").path
            let result = try TestEnvironment.run(hepml, ["plot", path, "--column", column, "--row", "1", "-o", output])
            #expect(result.status == 0, "\(result.output)")
            #expect(try String(contentsOfFile: output, encoding: .utf8).contains("row 1"))
        }
        let outside = try TestEnvironment.run(hepml, ["plot", path, "--column", "L1T/h1", "--row", "2", "-o", directory.appendingPathComponent("x.png").path])
        #expect(outside.status != 0)
        #expect(outside.output.contains("outside"))
        let scalar = try TestEnvironment.run(hepml, ["plot", path, "--column", "run_number", "-o", directory.appendingPathComponent("x.png").path])
        #expect(scalar.status != 0)
    }
}
