import Foundation
import HEPMLCore

/// An HTML report: title, a block of key metrics, then sections of paragraphs, tables and
/// figures. `write(to:)` produces one directory (index.html plus figures/) that opens offline;
/// `terminalSummary()` prints the same key metrics for the command line.
public struct Report: Sendable {
    public var title: String
    public var subtitle: String?
    public var metrics: [Metric]
    public var sections: [Section]

    public init(title: String, subtitle: String? = nil, metrics: [Metric] = [], sections: [Section] = []) {
        self.title = title
        self.subtitle = subtitle
        self.metrics = metrics
        self.sections = sections
    }

    public struct Metric: Sendable {
        public var name: String
        /// Already formatted, so the HTML and the terminal show the same digits.
        public var value: String

        public init(_ name: String, text: String) {
            self.name = name
            value = text
        }

        public init(_ name: String, _ value: Double, uncertainty: Double? = nil, unit: String? = nil, digits: Int = 3) {
            self.name = name
            var text = formatNumber(value, digits: digits)
            if let uncertainty { text += " ± " + formatNumber(uncertainty, digits: digits) }
            if let unit { text += " " + unit }
            self.value = text
        }
    }

    public struct Section: Sendable {
        public var title: String
        public var blocks: [Block]

        public init(_ title: String, _ blocks: [Block] = []) {
            self.title = title
            self.blocks = blocks
        }
    }

    public enum Block: Sendable {
        case paragraph(String)
        case table(Table)
        /// `name` becomes the file name (sanitised, made unique) of the figure's PNG and PDF.
        case figure(Figure, name: String, caption: String?)
        /// Monospaced text: command lines, logs.
        case preformatted(String)
    }

    public struct Table: Sendable {
        public var caption: String?
        public var headers: [String]
        public var rows: [[Cell]]

        public init(caption: String? = nil, headers: [String], rows: [[Cell]]) {
            self.caption = caption
            self.headers = headers
            self.rows = rows
        }
    }

    /// Numbers are right-aligned with tabular digits so columns of values line up.
    public enum Cell: Sendable, ExpressibleByStringLiteral {
        case text(String)
        case number(Double, digits: Int)
        case integer(Int)

        public init(stringLiteral value: String) { self = .text(value) }

        var formatted: String {
            switch self {
            case .text(let text): return text
            case .number(let value, let digits): return formatNumber(value, digits: digits)
            case .integer(let value): return String(value)
            }
        }

        var isNumeric: Bool {
            if case .text = self { return false }
            return true
        }
    }

    public enum FigureEmbedding: Sendable {
        /// PNG files (and a PDF for print) in `figures/` beside index.html.
        case files
        /// PNGs inlined as data URIs: index.html alone is the whole report.
        case dataURI
    }

    public mutating func add(_ section: Section) { sections.append(section) }
    public mutating func add(_ metric: Metric) { metrics.append(metric) }

    /// Writes `directory/index.html` (and figures) and returns the path of index.html. Figures
    /// are written first and the page last, each atomically, so a page never points at a
    /// figure that is not there yet.
    @discardableResult
    public func write(to directory: String, embedding: FigureEmbedding = .files, dpi: Double = 150) throws -> String {
        let root = URL(fileURLWithPath: directory)
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        var usedNames = Set<String>()
        var html = header()
        for section in sections {
            html += "<section>\n<h2>\(escapeHTML(section.title))</h2>\n"
            for block in section.blocks {
                switch block {
                case .paragraph(let text):
                    html += "<p>\(escapeHTML(text))</p>\n"
                case .preformatted(let text):
                    html += "<pre>\(escapeHTML(text))</pre>\n"
                case .table(let table):
                    html += tableHTML(table)
                case .figure(let figure, let name, let caption):
                    let base = uniqueName(name, used: &usedNames)
                    let png = try figure.render(.png(dpi: dpi))
                    let alt = escapeHTML(caption ?? figure.title.map(TextMarkup.plainText) ?? base)
                    html += "<figure>\n"
                    switch embedding {
                    case .files:
                        try AtomicFile.write(png, to: root.appendingPathComponent("figures/\(base).png").path)
                        try AtomicFile.write(figure.render(.pdf), to: root.appendingPathComponent("figures/\(base).pdf").path)
                        html += "<img src=\"figures/\(base).png\" alt=\"\(alt)\" data-figure=\"\(base)\">\n"
                        html += "<figcaption>\(caption.map(escapeHTML) ?? "") <a href=\"figures/\(base).pdf\">PDF</a></figcaption>\n"
                    case .dataURI:
                        html += "<img src=\"data:image/png;base64,\(Data(png).base64EncodedString())\" alt=\"\(alt)\" data-figure=\"\(base)\">\n"
                        if let caption { html += "<figcaption>\(escapeHTML(caption))</figcaption>\n" }
                    }
                    html += "</figure>\n"
                }
            }
            html += "</section>\n"
        }
        html += footer()
        let index = root.appendingPathComponent("index.html").path
        try AtomicFile.write(html, to: index)
        return index
    }

    /// The key metrics as aligned plain text, for the end of a command's output.
    public func terminalSummary() -> String {
        var lines = [title, String(repeating: "=", count: title.count)]
        let nameWidth = metrics.map(\.name.count).max() ?? 0
        let valueWidth = metrics.map(\.value.count).max() ?? 0
        for metric in metrics {
            let name = metric.name + String(repeating: " ", count: nameWidth - metric.name.count)
            let value = String(repeating: " ", count: valueWidth - metric.value.count) + metric.value
            lines.append("  \(name)  \(value)")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private func uniqueName(_ name: String, used: inout Set<String>) -> String {
        var base = String(name.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == ".") ? $0 : "_" })
        if base.isEmpty || base.hasPrefix(".") { base = "figure" + base }
        base = OutputName.component(base)
        var candidate = base
        var counter = 2
        while used.contains(candidate) {
            candidate = "\(base)-\(counter)"
            counter += 1
        }
        used.insert(candidate)
        return candidate
    }

    private func header() -> String {
        var html = """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="generator" content="HEPML">
        <title>\(escapeHTML(title))</title>
        <style>
        body { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; margin: 2em auto; max-width: 1100px; padding: 0 1em; color: #222; }
        h1 { margin-bottom: 0.2em; }
        .subtitle { color: #555; margin-top: 0; }
        .metrics { display: flex; flex-wrap: wrap; gap: 0.8em; margin: 1.2em 0 2em; }
        .metric { border: 1px solid #ccc; border-radius: 6px; padding: 0.6em 1em; background: #f7f9fc; min-width: 9em; }
        .metric .name { font-size: 0.85em; color: #555; }
        .metric .value { font-size: 1.3em; font-weight: bold; font-variant-numeric: tabular-nums; }
        table { border-collapse: collapse; margin: 1em 0; }
        caption { text-align: left; font-weight: bold; padding-bottom: 0.3em; }
        th, td { border-bottom: 1px solid #ddd; padding: 0.3em 0.8em; text-align: left; }
        td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; font-family: "DejaVu Sans Mono", monospace; }
        figure { display: inline-block; margin: 0.5em 1em 1em 0; vertical-align: top; }
        figure img { max-width: 100%; border: 1px solid #eee; }
        figcaption { font-size: 0.9em; color: #444; }
        .missing { color: #b00; font-weight: bold; }
        pre { background: #f4f4f4; padding: 0.8em; overflow-x: auto; }
        </style>
        </head>
        <body>
        <h1>\(escapeHTML(title))</h1>

        """
        if let subtitle { html += "<p class=\"subtitle\">\(escapeHTML(subtitle))</p>\n" }
        if !metrics.isEmpty {
            html += "<div class=\"metrics\" id=\"key-metrics\">\n"
            for metric in metrics {
                html += "<div class=\"metric\"><div class=\"name\">\(escapeHTML(metric.name))</div><div class=\"value\">\(escapeHTML(metric.value))</div></div>\n"
            }
            html += "</div>\n"
        }
        return html
    }

    /// The script flags figures that failed to load in place (a report copied without its
    /// figures/ directory says so instead of showing broken icons) and records the count on
    /// <html data-broken-figures>, which the browser test reads.
    private func footer() -> String {
        """
        <script>
        window.addEventListener("load", function () {
          var broken = 0;
          document.querySelectorAll("img[data-figure]").forEach(function (img) {
            if (!img.complete || img.naturalWidth === 0) {
              broken += 1;
              var note = document.createElement("p");
              note.className = "missing";
              note.textContent = "Figure missing: " + img.getAttribute("data-figure");
              img.parentNode.insertBefore(note, img);
            }
          });
          document.documentElement.setAttribute("data-broken-figures", String(broken));
        });
        </script>
        </body>
        </html>

        """
    }

    private func tableHTML(_ table: Table) -> String {
        let numericColumns = Set(table.headers.indices.filter { column in
            table.rows.contains { column < $0.count } && table.rows.allSatisfy { column >= $0.count || $0[column].isNumeric }
        })
        var html = "<table>\n"
        if let caption = table.caption { html += "<caption>\(escapeHTML(caption))</caption>\n" }
        html += "<thead><tr>"
        for (column, header) in table.headers.enumerated() {
            html += "<th\(numericColumns.contains(column) ? " class=\"num\"" : "")>\(escapeHTML(header))</th>"
        }
        html += "</tr></thead>\n<tbody>\n"
        for row in table.rows {
            html += "<tr>"
            for cell in row {
                html += "<td\(cell.isNumeric ? " class=\"num\"" : "")>\(escapeHTML(cell.formatted))</td>"
            }
            html += "</tr>\n"
        }
        return html + "</tbody>\n</table>\n"
    }
}

/// Fixed decimals for ordinary magnitudes, scientific notation for very large or small ones.
func formatNumber(_ value: Double, digits: Int) -> String {
    guard value.isFinite else { return value.isNaN ? "nan" : (value > 0 ? "inf" : "-inf") }
    let digits = min(max(digits, 0), 12)
    let magnitude = abs(value)
    if magnitude != 0 && (magnitude >= 1e6 || magnitude < pow(10, Double(-digits))) {
        return String(format: "%.\(max(digits - 1, 1))e", value)
    }
    return String(format: "%.\(digits)f", value)
}

/// Escapes text for HTML and XML (report pages, SVG metadata attributes).
func escapeHTML(_ text: String) -> String {
    var out = ""
    out.reserveCapacity(text.count)
    for character in text {
        switch character {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&#39;"
        default: out.append(character)
        }
    }
    return out
}
