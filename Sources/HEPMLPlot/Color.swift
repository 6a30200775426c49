/// An sRGB colour with straight (non-premultiplied) alpha, components in 0...1.
public struct Color: Equatable, Sendable {
    public var red: Double
    public var green: Double
    public var blue: Double
    public var alpha: Double

    public init(red: Double, green: Double, blue: Double, alpha: Double = 1) {
        self.red = red
        self.green = green
        self.blue = blue
        self.alpha = alpha
    }

    /// `0xRRGGBB`, the form palettes are published in.
    public init(hex: UInt32, alpha: Double = 1) {
        self.init(red: Double((hex >> 16) & 0xFF) / 255, green: Double((hex >> 8) & 0xFF) / 255,
                  blue: Double(hex & 0xFF) / 255, alpha: alpha)
    }

    public func withAlpha(_ alpha: Double) -> Color {
        Color(red: red, green: green, blue: blue, alpha: alpha)
    }

    /// `#rrggbb`, for HTML and for comparing with pixels read back from a PNG.
    public var hexString: String {
        func byte(_ value: Double) -> String {
            let b = Int((min(max(value, 0), 1) * 255).rounded())
            return (b < 16 ? "0" : "") + String(b, radix: 16)
        }
        return "#" + byte(red) + byte(green) + byte(blue)
    }

    func mixed(with other: Color, fraction t: Double) -> Color {
        Color(red: red + (other.red - red) * t, green: green + (other.green - green) * t,
              blue: blue + (other.blue - blue) * t, alpha: alpha + (other.alpha - alpha) * t)
    }

    public static let black = Color(red: 0, green: 0, blue: 0)
    public static let white = Color(red: 1, green: 1, blue: 1)
    public static let gray = Color(hex: 0x808080)
    /// Cells that carry no channel (e.g. HCAL positions outside a subdetector): a light grey that
    /// no colour map below uses, so an inactive cell never reads as "low value".
    public static let inactive = Color(hex: 0xD0D0D0)
}

/// Series colour cycles that stay distinguishable for colour-blind readers.
///
/// The Petroff palettes (M. A. Petroff, arXiv:2107.02270) are the ones CMS adopted for its
/// figures; the 6-colour set is preferred while it suffices because its colours are further apart.
public enum Palette {
    public static let petroff6: [Color] = [0x5790FC, 0xF89C20, 0xE42536, 0x964A8B, 0x9C9CA1, 0x7A21DD].map { Color(hex: $0) }
    public static let petroff10: [Color] = [0x3F90DA, 0xFFA90E, 0xBD1F01, 0x94A4A2, 0x832DB6,
                                            0xA96B59, 0xE76300, 0xB9AC70, 0x717581, 0x92DADD].map { Color(hex: $0) }

    /// The colour of the `index`-th automatically coloured series among `count` in one axes.
    public static func cycleColor(_ index: Int, of count: Int) -> Color {
        let palette = count <= petroff6.count ? petroff6 : petroff10
        return palette[index % palette.count]
    }
}

/// A continuous colour map, sampled by linear interpolation between evenly spaced stops.
public struct ColorMap: Equatable, Sendable {
    public var stops: [Color]

    public init(stops: [Color]) {
        self.stops = stops.isEmpty ? [.black, .white] : stops
    }

    /// The colour at `t` in 0...1 (clamped).
    public func color(at t: Double) -> Color {
        guard stops.count > 1 else { return stops[0] }
        let clamped = t.isNaN ? 0 : min(max(t, 0), 1)
        let position = clamped * Double(stops.count - 1)
        let lower = min(Int(position), stops.count - 2)
        return stops[lower].mixed(with: stops[lower + 1], fraction: position - Double(lower))
    }

    /// Perceptually uniform and readable in grey scale; the default for occupancies and scores.
    public static let viridis = ColorMap(stops: [0x440154, 0x482576, 0x414487, 0x35608D, 0x2A788E, 0x21908C,
                                                 0x22A884, 0x43BF71, 0x7AD151, 0xBBDF27, 0xFDE725].map { Color(hex: $0) })
    /// Blue–white–red for signed quantities (residuals, correlations) on a symmetric range.
    public static let diverging = ColorMap(stops: [0x2166AC, 0x67A9CF, 0xD1E5F0, 0xF7F7F7, 0xFDDBC7, 0xEF8A62, 0xB2182B].map { Color(hex: $0) })
    /// White to black, for images where "more" should simply read as "darker".
    public static let grays = ColorMap(stops: [.white, .black])
}
