import Foundation
import HEPMLPlot
import HEPMLTestSupport
import Testing

@Suite struct GalleryTests {
    /// Renders every gallery figure in all three formats; each file must be a valid,
    /// non-trivial image of its type.
    @Test func galleryRendersInEveryFormat() throws {
        let kept = ProcessInfo.processInfo.environment["HEPML_GALLERY_DIR"]
        let directory = try kept.map { URL(fileURLWithPath: $0) } ?? TestEnvironment.temporaryDirectory("hepml-gallery")
        defer { if kept == nil { try? FileManager.default.removeItem(at: directory) } }
        for (name, figure) in Gallery.figures() {
            for ext in ["png", "svg", "pdf"] {
                let path = directory.appendingPathComponent("\(name).\(ext)").path
                try figure.save(to: path, dpi: 110)
                let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
                #expect(bytes.count > 1000, "\(name).\(ext) is suspiciously small")
                switch ext {
                case "png": #expect(bytes.starts(with: [0x89, 0x50, 0x4E, 0x47]))
                case "pdf": #expect(bytes.starts(with: Array("%PDF".utf8)))
                default: #expect(String(decoding: bytes.prefix(200), as: UTF8.self).contains("<?xml"))
                }
            }
        }
    }
}
