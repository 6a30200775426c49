import CCairo
import Foundation
import HEPMLCore

public enum ImageFormat: Equatable, Sendable {
    /// Raster at `dpi` dots per inch (figure sizes are in points, 72 per inch).
    case png(dpi: Double)
    case svg
    case pdf

    /// The format a file name asks for: `.png`, `.svg` or `.pdf` (any case).
    public init?(pathExtension: String, dpi: Double = 150) {
        switch pathExtension.lowercased() {
        case "png": self = .png(dpi: dpi)
        case "svg": self = .svg
        case "pdf": self = .pdf
        default: return nil
        }
    }
}

public struct PlotError: Error, CustomStringConvertible, Sendable {
    public var description: String
}

extension Figure {
    /// Renders and writes the figure, choosing PNG, SVG or PDF by the file extension; the file
    /// appears complete or not at all (temporary file + rename).
    public func save(to path: String, dpi: Double = 150) throws {
        let ext = URL(fileURLWithPath: path).pathExtension
        guard let format = ImageFormat(pathExtension: ext, dpi: dpi) else {
            throw PlotError(description: "\(path): unsupported figure format '.\(ext)' (use .png, .svg or .pdf)")
        }
        try AtomicFile.write(render(format), to: path)
    }

    /// The encoded file contents.
    public func render(_ format: ImageFormat) throws -> [UInt8] {
        guard width.isFinite, height.isFinite, width >= 1, height >= 1, width <= 100_000, height <= 100_000 else {
            throw PlotError(description: "figure size \(width)×\(height) pt is not drawable")
        }
        let layout = layout()
        switch format {
        case .png(let dpi):
            guard dpi.isFinite, dpi >= 10, dpi <= 2400 else { throw PlotError(description: "DPI \(dpi) is outside 10…2400") }
            let scale = dpi / 72
            let pixelWidth = Int((width * scale).rounded(.up)), pixelHeight = Int((height * scale).rounded(.up))
            guard pixelWidth > 0, pixelHeight > 0, pixelWidth <= 32767, pixelHeight <= 32767 else {
                throw PlotError(description: "figure of \(pixelWidth)×\(pixelHeight) pixels is outside cairo's limits")
            }
            let surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, Int32(pixelWidth), Int32(pixelHeight))
            defer { cairo_surface_destroy(surface) }
            try draw(layout, on: surface, scale: scale)
            let sink = ByteSink()
            try check(cairo_surface_write_to_png_stream(surface, ByteSink.write, Unmanaged.passUnretained(sink).toOpaque()), "PNG encoding")
            return sink.bytes
        case .svg:
            let sink = ByteSink()
            let surface = cairo_svg_surface_create_for_stream(ByteSink.write, Unmanaged.passUnretained(sink).toOpaque(), width, height)
            cairo_svg_surface_set_document_unit(surface, CAIRO_SVG_UNIT_PT)
            try draw(layout, on: surface, scale: 1)
            cairo_surface_finish(surface)
            let status = cairo_surface_status(surface)
            cairo_surface_destroy(surface)
            try check(status, "SVG output")
            return SVGMetadata.insert(into: sink.bytes, layout: layout, figure: self)
        case .pdf:
            let sink = ByteSink()
            let surface = cairo_pdf_surface_create_for_stream(ByteSink.write, Unmanaged.passUnretained(sink).toOpaque(), width, height)
            if let title {
                cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_TITLE, TextMarkup.plainText(title))
            }
            cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATOR, "HEPML")
            try draw(layout, on: surface, scale: 1)
            cairo_surface_finish(surface)
            let status = cairo_surface_status(surface)
            cairo_surface_destroy(surface)
            try check(status, "PDF output")
            return sink.bytes
        }
    }

    private func draw(_ layout: FigureLayout, on surface: OpaquePointer?, scale: Double) throws {
        try check(cairo_surface_status(surface), "surface creation")
        let context = cairo_create(surface)
        defer { cairo_destroy(context) }
        guard let context else { throw PlotError(description: "cairo: could not create a drawing context") }
        cairo_scale(context, scale, scale)
        Renderer(figure: self, layout: layout, context: context).draw()
        try check(cairo_status(context), "drawing")
        cairo_surface_flush(surface)
    }

    private func check(_ status: cairo_status_t, _ what: String) throws {
        guard status == CAIRO_STATUS_SUCCESS else {
            throw PlotError(description: "cairo \(what) failed: \(String(cString: cairo_status_to_string(status)))")
        }
    }
}

/// Collects what cairo's stream writers emit.
final class ByteSink {
    var bytes: [UInt8] = []

    static let write: cairo_write_func_t = { closure, data, length in
        guard let closure else { return CAIRO_STATUS_WRITE_ERROR }
        let sink = Unmanaged<ByteSink>.fromOpaque(closure).takeUnretainedValue()
        if let data, length > 0 { sink.bytes.append(contentsOf: UnsafeBufferPointer(start: data, count: Int(length))) }
        return CAIRO_STATUS_SUCCESS
    }
}

/// Cairo's SVG draws text as glyph outlines, so neither a reader's tools nor our tests could
/// find "which tick labels, which legend entries" in it. Right after the opening `<svg>` tag
/// we add a `<title>` and a `<metadata>` block describing the figure's structure; the drawing
/// itself is cairo's, untouched.
enum SVGMetadata {
    static let namespace = "https://hepml.dev/ns/figure"

    static func insert(into svg: [UInt8], layout: FigureLayout, figure: Figure) -> [UInt8] {
        let text = String(decoding: svg, as: UTF8.self)
        guard let open = text.range(of: "<svg"), let close = text[open.upperBound...].firstIndex(of: ">") else { return svg }
        let insertAt = text.index(after: close)
        return Array((String(text[..<insertAt]) + "\n" + describe(layout, figure: figure) + String(text[insertAt...])).utf8)
    }

    static func describe(_ layout: FigureLayout, figure: Figure) -> String {
        var out = ""
        if let title = figure.title { out += "<title>\(escapeHTML(TextMarkup.plainText(title)))</title>\n" }
        out += "<metadata id=\"hepml-figure\"><hepml:figure xmlns:hepml=\"\(namespace)\" width=\"\(layout.width)\" height=\"\(layout.height)\">\n"
        let panels = figure.panels.prefix(figure.rows * figure.columns)
        var axesIndex = 0
        for panel in panels {
            for axes in [panel.axes] + (panel.subpanel.map { [$0] } ?? []) where axesIndex < layout.axes.count {
                let box = layout.axes[axesIndex]
                axesIndex += 1
                var attributes = "panel=\"\(box.panelIndex)\" role=\"\(box.isSubpanel ? "subpanel" : "main")\" series=\"\(axes.series.count)\""
                attributes += " x=\"\(box.frame.x)\" y=\"\(box.frame.y)\" width=\"\(box.frame.width)\" height=\"\(box.frame.height)\""
                for (name, label) in [("title", box.title), ("x-label", box.x.title), ("y-label", box.y.title)] {
                    if let label { attributes += " \(name)=\"\(escapeHTML(label.plainText))\"" }
                }
                out += "<hepml:axes \(attributes)>\n"
                for (name, axis) in [("x", box.x), ("y", box.y)] {
                    out += "<hepml:axis name=\"\(name)\" scale=\"\(axis.scale)\" min=\"\(axis.range.lowerBound)\" max=\"\(axis.range.upperBound)\">"
                    out += axis.tickLabels.map { "<hepml:tick label=\"\(escapeHTML($0.plainText))\"/>" }.joined()
                    out += "</hepml:axis>\n"
                }
                for (index, series) in axes.series.enumerated() {
                    out += "<hepml:series kind=\"\(series.kindName)\" color=\"\(box.seriesColors[index].hexString)\""
                    if let label = series.label { out += " label=\"\(escapeHTML(TextMarkup.plainText(label)))\"" }
                    out += "/>\n"
                }
                if let legend = box.legend {
                    out += "<hepml:legend x=\"\(legend.frame.x)\" y=\"\(legend.frame.y)\" width=\"\(legend.frame.width)\" height=\"\(legend.frame.height)\">"
                    out += legend.entries.map { "<hepml:entry label=\"\(escapeHTML($0.label.plainText))\"/>" }.joined()
                    out += "</hepml:legend>\n"
                }
                if let bar = box.colorbar { out += colorbar(bar) }
                out += "</hepml:axes>\n"
            }
        }
        if let bar = layout.sharedColorbar { out += colorbar(bar) }
        return out + "</hepml:figure></metadata>\n"
    }

    private static func colorbar(_ bar: ColorbarLayout) -> String {
        var out = "<hepml:colorbar scale=\"\(bar.colorScale.scale)\" min=\"\(bar.axis.range.lowerBound)\" max=\"\(bar.axis.range.upperBound)\""
        if let title = bar.axis.title { out += " label=\"\(escapeHTML(title.plainText))\"" }
        out += ">" + bar.axis.tickLabels.map { "<hepml:tick label=\"\(escapeHTML($0.plainText))\"/>" }.joined()
        return out + "</hepml:colorbar>\n"
    }
}

extension Series {
    var kindName: String {
        switch kind {
        case .line: return "line"
        case .histogram(_, _, _, let style): return "histogram-\(style)"
        case .scatter: return "scatter"
        case .band: return "band"
        case .horizontalLine: return "horizontal-line"
        case .verticalLine: return "vertical-line"
        case .text: return "text"
        case .heatmap: return "heatmap"
        case .polygons: return "polygons"
        }
    }
}
