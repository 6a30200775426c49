import Foundation
@testable import HEPMLPlot
import HEPMLTestSupport
import Testing

@Suite struct ReportTests {
    static func sampleReport() -> Report {
        var report = Report(title: "AutoDQM assessment <L1T>", subtitle: "Toy data, seed 1")
        report.add(.init("AUC (AE)", 0.8123, uncertainty: 0.0104))
        report.add(.init("Runs", text: "2300"))
        report.add(.init("Threshold", 1.5e-7, digits: 3))
        report.add(Report.Section("ROC", [
            .paragraph("Bootstrap band: 100 resamples."),
            .figure(Gallery.roc(logX: false), name: "roc", caption: "ROC with bootstrap band"),
        ]))
        report.add(Report.Section("Per histogram", [
            .table(Report.Table(caption: "FPR at fixed TPR", headers: ["Histogram", "AUC", "FPR @ 90 %", "Flags"],
                                rows: [["ecalOccupancy", .number(0.812, digits: 3), .number(12.5, digits: 1), .integer(3)],
                                       ["hcalOccupancy", .number(0.9, digits: 3), .number(4.25, digits: 1), .integer(12)]])),
            .figure(Gallery.comparison(), name: "L1T/ecal occupancy", caption: nil),
            .figure(Gallery.hcalDepth(), name: "roc", caption: "name collision"),
        ]))
        return report
    }

    @Test func writesADirectoryWithFiguresBesideTheHTML() throws {
        let directory = try TestEnvironment.temporaryDirectory("hepml-report")
        defer { try? FileManager.default.removeItem(at: directory) }
        let index = try Self.sampleReport().write(to: directory.path, dpi: 72)
        let html = try String(contentsOfFile: index, encoding: .utf8)
        #expect(html.contains("<title>AutoDQM assessment &lt;L1T&gt;</title>"))
        #expect(html.contains("0.812 ± 0.010"))
        #expect(html.contains("1.50e-07"))
        #expect(html.contains("<td class=\"num\">12.5</td>"))
        #expect(html.contains("<td>ecalOccupancy</td>"))
        #expect(html.contains("<th class=\"num\">AUC</th>") && html.contains("<th>Histogram</th>"))
        // The metrics block comes before the first section.
        let metrics = try #require(html.range(of: "id=\"key-metrics\""))
        let section = try #require(html.range(of: "<section>"))
        #expect(metrics.lowerBound < section.lowerBound)
        // No external resources: everything is relative or inline.
        #expect(!html.contains("http://") && !html.contains("https://"))

        let figures = try FileManager.default.contentsOfDirectory(atPath: directory.appendingPathComponent("figures").path).sorted()
        #expect(figures == ["L1T_ecal_occupancy.pdf", "L1T_ecal_occupancy.png", "roc-2.pdf", "roc-2.png", "roc.pdf", "roc.png"])
        for name in figures where name.hasSuffix(".png") {
            #expect(html.contains("src=\"figures/\(name)\""))
            let png = try #require(DecodedPNG(path: directory.appendingPathComponent("figures/\(name)").path))
            #expect(png.width > 300 && png.nonBackgroundFraction > 0.02)
        }
    }

    @Test func dataURIEmbeddingNeedsNoOtherFile() throws {
        let directory = try TestEnvironment.temporaryDirectory("hepml-report")
        defer { try? FileManager.default.removeItem(at: directory) }
        let index = try Self.sampleReport().write(to: directory.path, embedding: .dataURI, dpi: 72)
        let html = try String(contentsOfFile: index, encoding: .utf8)
        #expect(html.components(separatedBy: "src=\"data:image/png;base64,iVBOR").count - 1 == 3)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["index.html"])
    }

    @Test func terminalSummaryAlignsNamesAndValues() {
        let summary = Self.sampleReport().terminalSummary()
        let lines = summary.split(separator: "\n").map(String.init)
        #expect(lines[0] == "AutoDQM assessment <L1T>")
        #expect(lines[1] == String(repeating: "=", count: lines[0].count))
        #expect(lines.count == 5)
        #expect(Set(lines[2...].map(\.count)).count == 1)  // right-aligned values end in one column
        #expect(lines[2].hasPrefix("  AUC (AE) ") && lines[2].hasSuffix("0.812 ± 0.010"))
        #expect(lines[3].hasSuffix("2300") && lines[4].hasSuffix("1.50e-07"))
    }
}

/// Opens a generated report in headless Chromium, as a reader would.
@Suite struct BrowserTests {
    @Test(.requiresChromium)
    func reportLoadsInChromiumWithAllFigures() throws {
        let kept = ProcessInfo.processInfo.environment["HEPML_GALLERY_DIR"]
        let directory = try kept.map { URL(fileURLWithPath: $0) } ?? TestEnvironment.temporaryDirectory("hepml-browser")
        defer { if kept == nil { try? FileManager.default.removeItem(at: directory) } }
        let reportDirectory = directory.appendingPathComponent("report")
        let index = try ReportTests.sampleReport().write(to: reportDirectory.path, dpi: 72)
        let url = URL(fileURLWithPath: index).absoluteString

        let dom = try Chromium.run(["--dump-dom", url], in: directory)
        #expect(dom.contains("AutoDQM assessment &lt;L1T&gt;"), "page did not load: \(dom.prefix(300))")
        #expect(dom.contains("data-broken-figures=\"0\""), "figures failed to load")
        #expect(!dom.contains("<p class=\"missing\">"))

        let screenshot = directory.appendingPathComponent("screenshot.png")
        _ = try Chromium.run(["--window-size=1200,1400", "--screenshot=\(screenshot.path)", url], in: directory)
        let png = try #require(DecodedPNG(path: screenshot.path), "no screenshot written")
        #expect(png.width == 1200 && png.height == 1400)
        #expect(png.nonBackgroundFraction > 0.05)
        #expect(png.distinctColorCount > 100)

        // The check can fail: without one figure file the page reports it.
        try FileManager.default.removeItem(at: reportDirectory.appendingPathComponent("figures/roc.png"))
        let broken = try Chromium.run(["--dump-dom", url], in: directory)
        #expect(broken.contains("data-broken-figures=\"1\""))
        #expect(broken.contains("<p class=\"missing\">Figure missing: roc</p>"))
    }
}
