import CCairo
import Foundation

/// A PNG decoded through cairo (the same library that wrote it), as straight RGBA pixels.
struct DecodedPNG {
    let width: Int
    let height: Int
    private let pixels: [UInt32]  // cairo ARGB32, premultiplied, native endian

    init?(path: String) {
        guard let surface = cairo_image_surface_create_from_png(path) else { return nil }
        defer { cairo_surface_destroy(surface) }
        guard cairo_surface_status(surface) == CAIRO_STATUS_SUCCESS, let data = cairo_image_surface_get_data(surface) else { return nil }
        width = Int(cairo_image_surface_get_width(surface))
        height = Int(cairo_image_surface_get_height(surface))
        let stride = Int(cairo_image_surface_get_stride(surface))
        var pixels = [UInt32](repeating: 0, count: width * height)
        let raw = UnsafeRawPointer(data)
        for row in 0..<height {
            for column in 0..<width {
                pixels[row * width + column] = raw.load(fromByteOffset: row * stride + column * 4, as: UInt32.self)
            }
        }
        self.pixels = pixels
    }

    /// (r, g, b, a) in 0...255, un-premultiplied.
    func rgba(x: Int, y: Int) -> (r: Int, g: Int, b: Int, a: Int) {
        let p = pixels[y * width + x]
        let a = Int(p >> 24)
        func channel(_ shift: UInt32) -> Int {
            let c = Int((p >> shift) & 0xFF)
            return a == 0 ? 0 : min(255, (c * 255 + a / 2) / a)
        }
        return (channel(16), channel(8), channel(0), a)
    }

    func hex(x: Int, y: Int) -> String {
        let c = rgba(x: x, y: y)
        return String(format: "#%02x%02x%02x", c.r, c.g, c.b)
    }

    var distinctColorCount: Int { Set(pixels).count }

    /// Fraction of pixels that differ from the top-left one (a blank page scores ~0).
    var nonBackgroundFraction: Double {
        guard let first = pixels.first else { return 0 }
        return Double(pixels.filter { $0 != first }.count) / Double(max(pixels.count, 1))
    }
}
