import Foundation
import HEPMLTestSupport
import Testing

/// Headless Chromium (Debian package `chromium`; `scripts/install-deps.sh --with-browser`) loads
/// the dashboard from a running server while a replay runs, and the DOM contract of
/// docs/hcal-serve.md is checked in its dumped DOM.
@Suite struct HCALDashboardBrowserTests {
    /// The text of the element with `id` in dumped HTML.
    static func text(ofID id: String, in dom: String) -> String? {
        guard let start = dom.range(of: "id=\"\(id)\""), let open = dom[start.upperBound...].firstIndex(of: ">"),
              let close = dom[open...].firstIndex(of: "<") else { return nil }
        return String(dom[dom.index(after: open)..<close])
    }

    /// The HTML of the table with `id`.
    static func table(_ id: String, in dom: String) -> String? {
        guard let start = dom.range(of: "id=\"\(id)\""), let end = dom[start.upperBound...].range(of: "</table>") else { return nil }
        return String(dom[start.lowerBound..<end.upperBound])
    }

    /// The opening tags `<name …>` in an HTML fragment.
    static func tags(_ name: String, in html: String) -> [String] {
        html.components(separatedBy: "<\(name)").dropFirst().compactMap { $0.split(separator: ">", maxSplits: 1).first.map(String.init) }
    }

    @Test(.requiresChromium)
    func dashboardDrawsTheLiveRunAndListsTheHotChannel() async throws {
        let fixture = try ServeFixture.get()
        let directory = try TestEnvironment.temporaryDirectory("hcal-dashboard")
        defer { try? FileManager.default.removeItem(at: directory) }
        let server = try await ServeProcess.start(model: fixture.model, data: directory.appendingPathComponent("data"))
        // The run arrives in two halves, so the first page sees a run that is still arriving
        // however slowly Chromium starts on a loaded machine.
        // Headless Chromium's virtual clock stops while a request is open, so the page polls here
        // (`?transport=poll`) instead of holding the event stream that HCALServeTests checks.
        let page = server.url + "/?transport=poll"
        let half = ServeFixture.lumisections / 2
        func replay(_ range: [String], log name: String) throws {
            let replay = try HCALServeTests.startReplay(fixture.file, url: server.url, output: directory.appendingPathComponent(name), rate: nil, arguments: range)
            replay.waitUntilExit()
            #expect(replay.terminationStatus == 0, "replay \(range)")
        }
        try replay(["--last-ls", String(half)], log: "first-half.log")
        #expect(HCALServeTests.acknowledged(directory.appendingPathComponent("first-half.log")) == Set(1...half))
        let early = try Chromium.run(["--virtual-time-budget=3000", "--dump-dom", page], in: directory, timeout: 40)
        #expect(Int(Self.text(ofID: "ls-current", in: early) ?? "") == half, "ls-current while the run arrives: \(early.prefix(400))")
        try replay(["--first-ls", String(half + 1)], log: "second-half.log")

        let dom = try Chromium.run(["--virtual-time-budget=3000", "--dump-dom", page], in: directory, timeout: 40)
        let last = ServeFixture.lumisections
        #expect(Int(Self.text(ofID: "ls-current", in: dom) ?? "") == last, "#ls-current advances to the run's last LS")
        #expect(Self.text(ofID: "ls-count", in: dom) == String(last))
        #expect(dom.contains("<option value=\"\(ServeFixture.run)\""))
        let drawn = dom.components(separatedBy: "data-drawn=\"\(ServeFixture.run):\(last)\"").count - 1
        #expect(drawn == 14, "occupancy and score heatmaps of the 7 HE depths drawn for the last LS (\(drawn))")
        #expect(dom.contains("data-drawn=\"\(last)\""), "the timeline is drawn with every LS")
        let hot = ServeFixture.hotChannel
        let rows = Self.tags("tr", in: Self.table("flagged-table", in: dom) ?? "")
        #expect(rows.contains { $0.contains("data-ieta=\"\(hot.ieta)\"") && $0.contains("data-iphi=\"\(hot.iphi)\"") && $0.contains("data-depth=\"\(hot.depth)\"") },
                "the hot channel is in #flagged-table: \(rows.prefix(3))")
        #expect(Self.text(ofID: "status", in: dom) == "polling")

        // The screenshot: a test artefact, and the picture in docs/hcal-serve.md when HEPML_SCREENSHOT_DIR names docs/.
        let artefacts = ProcessInfo.processInfo.environment["HEPML_SCREENSHOT_DIR"].map { URL(fileURLWithPath: $0) } ?? directory
        let screenshot = artefacts.appendingPathComponent("hcal-serve-dashboard.png")
        _ = try Chromium.run(["--virtual-time-budget=3000", "--window-size=1400,1100", "--screenshot=\(screenshot.path)", page], in: directory, timeout: 40)
        let size = (try FileManager.default.attributesOfItem(atPath: screenshot.path)[.size] as? NSNumber)?.intValue ?? 0
        #expect(size > 10_000, "screenshot written (\(size) bytes)")
        #expect(try await server.stop() == 0)
    }
}
