import Foundation
import HEPMLROOT
import HEPMLTestSupport
import Testing

@Suite struct ExploreTests {
    @Test func explore() throws {
        guard let dir = TestEnvironment.sharedDirectory(for: "explore") else { return }
        let root = dir.appendingPathComponent("testdata/root")
        for name in try FileManager.default.contentsOfDirectory(atPath: root.path).sorted() {
            let file = try ROOTFile(path: root.appendingPathComponent(name).path)
            print("== \(name) v\(file.header.version)")
            for key in try file.keys() {
                print("  \(key.path);\(key.cycle) \(key.className) '\(key.title)'")
                do {
                    if key.className.hasPrefix("TH") || key.className.hasPrefix("TProfile") {
                        let h = try file.histogram(key.path)
                        print("    dim \(h.dimension) nx \(h.xAxis.binCount) entries \(h.entries) sum \(h.contents.reduce(0,+)) sumw2 \(h.sumw2.count) labels \(h.xAxis.labels.count) first \(h.contents.prefix(6))")
                    } else if key.className == "TTree" || key.className == "TNtuple" {
                        let t = try file.tree(key.path)
                        print("    entries \(t.entries)")
                        for s in t.branchSummaries() { print("      \(s.name): \(s.typeName)") }
                        let cols = try t.arrays()
                        for c in cols { print("      \(c.name) n=\(c.values.count) off=\(c.offsets?.count ?? -1) first=\((0..<min(4, c.values.count)).map { c.values.text(at: $0) })") }
                    }
                } catch { print("    ERROR \(error)") }
            }
        }
    }
}
