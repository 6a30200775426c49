import CCairo

/// Minimal label markup: `^{…}` raises and `_{…}` lowers a smaller run, enough for `10^{3}`,
/// `p_{T}` and `×10^{−2}` without a layout engine. Everything else is literal UTF-8.
struct TextRun: Equatable {
    var text: String
    /// Size relative to the label's font size.
    var scale: Double
    /// Baseline shift in units of the label's font size, positive = up.
    var rise: Double
}

enum TextMarkup {
    static func runs(_ markup: String) -> [TextRun] {
        var runs: [TextRun] = []
        var plain = ""
        var characters = markup[...]
        while let character = characters.first {
            characters = characters.dropFirst()
            if (character == "^" || character == "_"), characters.first == "{",
               let close = characters.firstIndex(of: "}") {
                if !plain.isEmpty { runs.append(TextRun(text: plain, scale: 1, rise: 0)); plain = "" }
                let inner = String(characters[characters.index(after: characters.startIndex)..<close])
                runs.append(TextRun(text: inner, scale: 0.7, rise: character == "^" ? 0.42 : -0.18))
                characters = characters[characters.index(after: close)...]
            } else {
                plain.append(character)
            }
        }
        if !plain.isEmpty { runs.append(TextRun(text: plain, scale: 1, rise: 0)) }
        return runs
    }

    /// The text as a reader sees it, without markup (for metadata and alt texts).
    static func plainText(_ markup: String) -> String {
        runs(markup).map(\.text).joined()
    }
}

/// Font selection and text measurement through cairo's toy font API; fontconfig resolves the
/// family name to a real font file (DejaVu Sans on Debian), so PNG, SVG and PDF share metrics.
struct Typeface {
    var family: String
    var bold: Bool = false

    func apply(to context: OpaquePointer, size: Double) {
        cairo_select_font_face(context, family, CAIRO_FONT_SLANT_NORMAL, bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL)
        cairo_set_font_size(context, size)
    }

    /// Advance width of the markup text.
    func width(of markup: String, size: Double, context: OpaquePointer) -> Double {
        var total = 0.0
        for run in TextMarkup.runs(markup) {
            apply(to: context, size: size * run.scale)
            var extents = cairo_text_extents_t()
            cairo_text_extents(context, run.text, &extents)
            total += extents.x_advance
        }
        return total
    }

    /// Ascent and descent of the font at `size` (independent of the text, so labels align).
    func verticalMetrics(size: Double, context: OpaquePointer) -> (ascent: Double, descent: Double) {
        apply(to: context, size: size)
        var extents = cairo_font_extents_t()
        cairo_font_extents(context, &extents)
        return (extents.ascent, extents.descent)
    }
}

/// A scratch cairo context used only for measuring text during layout.
final class TextMeasurer {
    let surface: OpaquePointer
    let context: OpaquePointer
    let typeface: Typeface

    init(typeface: Typeface) {
        // A 1×1 image surface never fails to allocate; cairo reports errors through status
        // objects, so measurements fall back to zero rather than crashing.
        surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, 1, 1)
        context = cairo_create(surface)
        self.typeface = typeface
    }

    deinit {
        cairo_destroy(context)
        cairo_surface_destroy(surface)
    }

    func width(_ markup: String, size: Double, bold: Bool = false) -> Double {
        Typeface(family: typeface.family, bold: bold).width(of: markup, size: size, context: context)
    }

    /// Line height used for stacking labels.
    func height(size: Double) -> Double {
        let metrics = typeface.verticalMetrics(size: size, context: context)
        return metrics.ascent + metrics.descent
    }
}
