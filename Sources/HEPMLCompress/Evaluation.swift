import Foundation
import HEPMLCompression
import HEPMLCore
import HEPMLMetrics
import HEPMLPlot

/// Residuals of one variable in physical units (spec A.8): relative `(out − in)/in` for pT, E and
/// m, absolute `out − in` for η, φ and the others. Objects with in = 0 have no relative residual
/// and are left out (counted in `undefined`).
public struct ResidualSummary: Sendable {
    public var variable: String
    public var relative: Bool
    public var count: Int
    public var undefined: Int
    public var mean: Double
    /// scipy's `stats.sem`: σ(ddof = 1)/√N.
    public var standardErrorOfMean: Double
    /// numpy's `std` (ddof = 0), and its error σ/√(2N) (upstream `std_error`).
    public var sigma: Double
    public var sigmaError: Double
    public var rms: Double
    /// At 0.1 %, 2.5 %, 16 %, 50 %, 84 %, 97.5 %, 99.9 %.
    public var quantiles: [Double]
    public var largest: Double
    /// The objects with the largest |residual|: (object index, input, output, residual).
    public var worst: [(object: Int, input: Double, output: Double, residual: Double)]

    public static let probabilities = [0.001, 0.025, 0.16, 0.5, 0.84, 0.975, 0.999]

    public static func residuals(input: [Double], output: [Double], relative: Bool) -> [Double] {
        zip(input, output).map { x, y in relative ? (x == 0 ? .nan : (y - x) / x) : y - x }
    }

    public init(variable: String, input: [Double], output: [Double], relative: Bool) {
        self.variable = variable
        self.relative = relative
        let all = Self.residuals(input: input, output: output, relative: relative)
        let values = all.filter { !$0.isNaN }
        count = values.count
        undefined = all.count - values.count
        let n = Double(max(values.count, 1))
        let average = values.reduce(0, +) / n
        let squares = values.reduce(0) { $0 + ($1 - average) * ($1 - average) }
        let deviation = (squares / n).squareRoot()
        mean = average
        sigma = deviation
        sigmaError = deviation / (2 * n).squareRoot()
        standardErrorOfMean = values.count > 1 ? (squares / (n - 1)).squareRoot() / n.squareRoot() : .nan
        rms = (values.reduce(0) { $0 + $1 * $1 } / n).squareRoot()
        let sorted = values.sorted()
        quantiles = Self.probabilities.map { sorted.isEmpty ? .nan : Quantile.ofSorted(sorted, $0) }
        largest = values.map(abs).max() ?? 0
        worst = all.indices.filter { !all[$0].isNaN }.sorted { abs(all[$0]) > abs(all[$1]) }.prefix(5)
            .map { (object: $0, input: input[$0], output: output[$0], residual: all[$0]) }
    }
}

/// A way to store the same values without an autoencoder, with its size and its residual σ per variable.
public struct Baseline: Sendable {
    public var name: String
    public var bytes: Int
    public var sigmas: [Double]
    public var detail: String
}

/// The type of each object, for per-type residual summaries (spec A.8's per-particle summary: a
/// model trained on jets, evaluated on photons, electrons and muons): the PhenoML line format's
/// object types, or the distinct values of any per-object integer variable (a flavour or PDG ID
/// branch of a ROOT tree).
public struct ObjectTypes: Sendable, Equatable {
    public var names: [String]
    /// Per object, an index into `names`.
    public var typeOfObject: [Int]

    public init(names: [String], typeOfObject: [Int]) {
        self.names = names
        self.typeOfObject = typeOfObject
    }

    /// The kept `obj_type` column of PhenoML/DarkMachines data (codes of `PhenoMLFormat.objectTypes`);
    /// nil when `data` has none.
    public static func phenoML(_ data: ObjectData) -> ObjectTypes? {
        guard let column = data.kept.first(where: { $0.name == "obj_type" }), case .int32(let codes) = column.values,
              codes.count == data.objectCount, codes.allSatisfy({ $0 >= 0 && Int($0) < PhenoMLFormat.objectTypes.count }) else { return nil }
        return ObjectTypes(names: PhenoMLFormat.objectTypes, typeOfObject: codes.map(Int.init))
    }

    /// One type per distinct value of `variable` (rounded), named `name=value`, in increasing order.
    public init(variable: ObjectVariable) {
        let values = variable.values.map { $0.rounded() }
        let distinct = Array(Set(values)).sorted()
        let index = Dictionary(uniqueKeysWithValues: distinct.enumerated().map { ($1, $0) })
        self.init(names: distinct.map { "\(variable.name)=\(String(format: "%g", $0))" }, typeOfObject: values.map { index[$0] ?? 0 })
    }
}

/// The residual summaries of the objects of one type.
public struct TypeResiduals: Sendable {
    public var type: String
    public var objects: Int
    public var residuals: [ResidualSummary]
}

/// What `hepml compress evaluate` reports: per-variable residuals of the compressed file against
/// the original, the sizes, and the baselines on the same data.
public struct CompressionEvaluation: Sendable {
    public var residuals: [ResidualSummary]
    public var sizes: CompressedFileSizes
    public var baselines: [Baseline]
    public var objects: Int
    /// Per object type (in the order of `ObjectTypes.names`, types without objects left out); empty without types.
    public var byType: [TypeResiduals]
    /// Wall time of decoding every object (latents to physical values, corrections applied), and
    /// of encoding them (normalization and encoder) when the model was given.
    public var decompressSeconds: Double
    public var encodeSeconds: Double?

    public static let zstdLevel: Int32 = 9

    /// `original` and the decompressed `decoded` must have the same variables and objects;
    /// `types`, when given, one type per object.
    public init(original: ObjectData, decoded: ObjectData, sizes: CompressedFileSizes, decompressSeconds: Double,
                encodeSeconds: Double? = nil, types: ObjectTypes? = nil) throws {
        guard original.variableNames == decoded.variableNames, original.objectCount == decoded.objectCount else {
            throw NormalizationError(variable: original.variableNames.joined(separator: ","),
                                     reason: "and the compressed file's \(decoded.variableNames.joined(separator: ",")) (\(decoded.objectCount) objects, the original has \(original.objectCount)) differ")
        }
        objects = original.objectCount
        self.sizes = sizes
        self.decompressSeconds = decompressSeconds
        self.encodeSeconds = encodeSeconds
        residuals = zip(original.variables, decoded.variables).map { input, output in
            ResidualSummary(variable: input.name, input: input.values, output: output.values, relative: VariableKind(input.name).comparesRelatively)
        }
        byType = []
        if let types {
            guard types.typeOfObject.count == original.objectCount else {
                throw NormalizationError(variable: "object types", reason: "has \(types.typeOfObject.count) objects, the data \(original.objectCount)")
            }
            var members = [[Int]](repeating: [], count: types.names.count)
            for (object, type) in types.typeOfObject.enumerated() where members.indices.contains(type) { members[type].append(object) }
            byType = zip(types.names, members).filter { !$1.isEmpty }.map { name, objects in
                TypeResiduals(type: name, objects: objects.count, residuals: zip(original.variables, decoded.variables).map { input, output in
                    ResidualSummary(variable: input.name, input: objects.map { input.values[$0] }, output: objects.map { output.values[$0] },
                                    relative: VariableKind(input.name).comparesRelatively)
                })
            }
        }
        baselines = try Self.baselines(original, matching: residuals.map(\.sigma))
    }

    /// Lossless zstd of the original columns (stored types, plus the per-event counts), float16,
    /// and float32 with the fewest mantissa bits whose residual σ reaches the autoencoder's per
    /// variable (the spec's float-truncation comparison), each zstd-compressed the same way.
    static func baselines(_ data: ObjectData, matching sigmas: [Double]) throws -> [Baseline] {
        func zstd(_ bytes: [UInt8]) throws -> Int { try bytes.withUnsafeBytes { try Codec.zstdCompress($0, level: zstdLevel).count } }
        func littleEndian<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] {
            var bytes = [UInt8]()
            bytes.reserveCapacity(values.count * MemoryLayout<T>.size)
            for value in values { withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) } }
            return bytes
        }
        let counts = data.eventOffsets == nil ? [] : littleEndian(data.counts.map { Int32(clamping: $0) })
        let countBytes = try counts.isEmpty ? 0 : zstd(counts)
        func sigma(_ variable: ObjectVariable, _ output: [Double]) -> Double {
            ResidualSummary(variable: variable.name, input: variable.values, output: output, relative: VariableKind(variable.name).comparesRelatively).sigma
        }
        var lossless = countBytes, half = countBytes, truncated = countBytes
        var halfSigmas: [Double] = [], truncatedSigmas: [Double] = [], bitsKept: [String] = []
        for (variable, target) in zip(data.variables, sigmas) {
            switch variable.type {
            case .float32: lossless += try zstd(littleEndian(variable.values.map { Float($0).bitPattern }))
            case .float64: lossless += try zstd(littleEndian(variable.values.map { $0.bitPattern }))
            case .int32: lossless += try zstd(littleEndian(variable.values.map { Int32($0) }))
            case .int64: lossless += try zstd(littleEndian(variable.values.map { Int64($0) }))
            }
            let halves = variable.values.map { Float16(Float($0)) }
            half += try zstd(littleEndian(halves.map(\.bitPattern)))
            halfSigmas.append(sigma(variable, halves.map { Double(Float($0)) }))
            // Fewest kept mantissa bits (of float32's 23) whose σ is within the autoencoder's.
            var chosen = 23
            for bits in 0...23 {
                let mask = UInt32.max << UInt32(23 - bits)
                if sigma(variable, variable.values.map { Double(Float(bitPattern: Float($0).bitPattern & mask)) }) <= target { chosen = bits; break }
            }
            let mask = UInt32.max << UInt32(23 - chosen)
            let patterns = variable.values.map { Float($0).bitPattern & mask }
            truncated += try zstd(littleEndian(patterns))
            truncatedSigmas.append(sigma(variable, patterns.map { Double(Float(bitPattern: $0)) }))
            bitsKept.append("\(variable.name) \(chosen)")
        }
        return [
            Baseline(name: "zstd lossless", bytes: lossless, sigmas: data.variables.map { _ in 0 }, detail: "zstd level \(zstdLevel) of each column in its stored type"),
            Baseline(name: "float16 + zstd", bytes: half, sigmas: halfSigmas, detail: "IEEE half precision, zstd level \(zstdLevel)"),
            Baseline(name: "mantissa truncation + zstd", bytes: truncated, sigmas: truncatedSigmas,
                     detail: "float32 mantissa bits kept: " + bitsKept.joined(separator: ", ")),
        ]
    }

    /// The HTML report: sizes and baselines, encode/decode time per object, the residual table,
    /// residual histograms, input vs output distributions with ratio panels, the residual
    /// correlation matrix, the corner-style pair plots, and the per-type residual tables.
    public func writeReport(original: ObjectData, decoded: ObjectData, title: String, to directory: String) throws -> String {
        var report = Report(title: title, subtitle: "\(objects) objects")
        report.add(Report.Metric("compression ratio (stored original / file)", Double(sizes.originalStored) / Double(max(sizes.file, 1))))
        report.add(Report.Metric("ratio without the model", Double(sizes.originalStored) / Double(max(sizes.withoutModel, 1))))
        report.add(Report.Metric("decoding", decompressSeconds / Double(max(objects, 1)) * 1e9, unit: "ns/object", digits: 3))
        if let encodeSeconds {
            report.add(Report.Metric("encoding", encodeSeconds / Double(max(objects, 1)) * 1e9, unit: "ns/object", digits: 3))
        }
        let sizeRows: [[Report.Cell]] = [
            ["original, raw", .integer(sizes.originalRaw)], ["original, as stored", .integer(sizes.originalStored)],
            ["compressed file", .integer(sizes.file)], ["  latents (with the event structure)", .integer(sizes.latents)],
            ["  exact corrections", .integer(sizes.corrections)], ["  kept columns", .integer(sizes.kept)],
            ["  decoder weights (safetensors, base64)", .integer(sizes.decoderWeights)],
            ["  decoder (ONNX, base64)", .integer(sizes.decoderONNX)], ["compressed file without the model", .integer(sizes.withoutModel)],
        ]
        func sigmaCells(_ sigmas: [Double]) -> [Report.Cell] { sigmas.map { Report.Cell.number($0, digits: 3) } }
        var baselineRows: [[Report.Cell]] = []
        let autoencoderRow: [Report.Cell] = [.text("autoencoder (this file, without the model)"), .integer(sizes.withoutModel)]
        baselineRows.append(autoencoderRow + sigmaCells(residuals.map(\.sigma)) + [.text("")])
        for baseline in baselines {
            let cells: [Report.Cell] = [.text(baseline.name), .integer(baseline.bytes)]
            baselineRows.append(cells + sigmaCells(baseline.sigmas) + [.text(baseline.detail)])
        }
        report.add(Report.Section("Sizes", [
            .table(Report.Table(caption: "bytes", headers: ["part", "bytes"], rows: sizeRows)),
            .table(Report.Table(caption: "baselines on the same values: bytes and residual σ per variable",
                                headers: ["method", "bytes"] + residuals.map { "σ \($0.variable)" } + ["detail"], rows: baselineRows)),
        ]))
        let residualRows: [[Report.Cell]] = residuals.map { summary -> [Report.Cell] in
            let cells: [Report.Cell] = [.text(summary.variable), .text(summary.relative ? "(out − in)/in" : "out − in"), .integer(summary.count),
                                        .text(String(format: "%.3g ± %.2g", summary.mean, summary.standardErrorOfMean)),
                                        .text(String(format: "%.4g ± %.2g", summary.sigma, summary.sigmaError))]
            return cells + sigmaCells(summary.quantiles) + [.number(summary.largest, digits: 3)]
        }
        var figures: [Report.Block] = [.table(Report.Table(caption: "residuals in physical units",
                                                           headers: ["variable", "residual", "N", "mean ± SEM", "σ ± err"]
                                                               + ResidualSummary.probabilities.map { "q\(String(format: "%g", $0 * 100))%" } + ["max |r|"],
                                                           rows: residualRows))]
        for (index, summary) in residuals.enumerated() {
            let values = ResidualSummary.residuals(input: original.variables[index].values, output: decoded.variables[index].values, relative: summary.relative)
            let span = max(abs(summary.quantiles[0]), abs(summary.quantiles[6]), 1e-12)
            figures.append(.figure(histogram(values, lower: -span, upper: span, bins: 100, title: summary.variable,
                                             xLabel: summary.relative ? "(out − in)/in" : "out − in"),
                                   name: "residual_\(index)", caption: String(format: "μ = %.3g ± %.2g, σ = %.4g ± %.2g", summary.mean, summary.standardErrorOfMean, summary.sigma, summary.sigmaError)))
            let input = original.variables[index].values.sorted()
            guard let low = input.first, let high = input.last, high > low else { continue }
            let edges = Binning.uniformEdges(count: 80, lower: Quantile.ofSorted(input, 0.001), upper: Quantile.ofSorted(input, 0.999))
            figures.append(.figure(Figure.comparison(edges: edges, reference: counts(input, edges), referenceLabel: "input",
                                                     candidates: [("output", counts(decoded.variables[index].values, edges))], lowerPanel: .ratio,
                                                     title: summary.variable, xLabel: summary.variable, yLabel: "objects"),
                                   name: "distribution_\(index)", caption: "input vs decompressed; ratio input/output"))
        }
        report.add(Report.Section("Residuals", figures))
        let matrix = correlations(original: original, decoded: decoded)
        let n = residuals.count
        let edges = (0...n).map(Double.init)
        report.add(Report.Section("Residual correlations", [
            .figure(Figure.heatmap(xEdges: edges, yEdges: edges, values: matrix, colorScale: ColorScale(map: .diverging, range: -1...1),
                                   title: "Pearson correlation of the residuals (" + residuals.map(\.variable).joined(separator: ", ") + ")",
                                   colorbarLabel: "correlation"),
                    name: "residual_correlation", caption: "row/column order: " + residuals.map(\.variable).joined(separator: ", ")),
        ]))
        let columns = residuals.indices.map {
            ResidualSummary.residuals(input: original.variables[$0].values, output: decoded.variables[$0].values, relative: residuals[$0].relative)
        }
        let groups = ResidualCorner.groups(residuals.map(\.variable))
        report.add(Report.Section("Residual pair plots", groups.enumerated().map { number, group in
            .figure(ResidualCorner.figure(columns: group.map { columns[$0] }, names: group.map { residuals[$0].variable },
                                          correlations: { matrix[group[$0] * n + group[$1]] },
                                          title: "residuals" + (groups.count > 1 ? " (group \(number + 1) of \(groups.count))" : "")),
                    name: "residual_corner_\(number)",
                    caption: "lower: 2-D residual densities (50 bins, 0.25–99.75 % quantiles); diagonal: residuals with the 16/84 % quantiles; upper: Pearson correlation")
        }))
        if !byType.isEmpty { report.add(typeSection()) }
        return try report.write(to: directory)
    }

    /// Per variable, mean ± SEM and σ ± err of the residual for each object type, and σ per type as a figure.
    private func typeSection() -> Report.Section {
        var blocks: [Report.Block] = []
        let headers = ["type", "objects"] + residuals.flatMap { ["\($0.variable) mean ± SEM", "\($0.variable) σ ± err"] }
        let rows: [[Report.Cell]] = byType.map { type in
            [.text(type.type), .integer(type.objects)] + type.residuals.flatMap { summary -> [Report.Cell] in
                [.text(String(format: "%.3g ± %.2g", summary.mean, summary.standardErrorOfMean)),
                 .text(String(format: "%.4g ± %.2g", summary.sigma, summary.sigmaError))]
            }
        }
        blocks.append(.table(Report.Table(caption: "residuals per object type", headers: headers, rows: rows)))
        let positions = byType.indices.map(Double.init)
        let series = residuals.indices.map { v in
            Series.scatter(x: positions, y: byType.map { $0.residuals[v].sigma }, yErrors: byType.map { $0.residuals[v].sigmaError },
                           label: residuals[v].variable)
        }
        let ticks = byType.enumerated().map { "\($0.offset) = \($0.element.type)" }.joined(separator: ", ")
        blocks.append(.figure(Figure(Axes(xLabel: "object type (" + ticks + ")", yLabel: "residual σ", yScale: .log, series: series, legend: .best)),
                              name: "residual_sigma_by_type", caption: "σ ± σ/√(2N) of each variable's residual per object type"))
        return Report.Section("Per object type", blocks)
    }

    private func counts(_ values: [Double], _ edges: [Double]) -> [Double] {
        guard let binning = Binning(edges: edges) else { return [] }
        var result = [Double](repeating: 0, count: binning.binCount)
        for value in values { if case .bin(let k)? = binning.location(of: value) { result[k] += 1 } }
        return result
    }

    private func histogram(_ values: [Double], lower: Double, upper: Double, bins: Int, title: String, xLabel: String) -> Figure {
        let edges = Binning.uniformEdges(count: bins, lower: lower, upper: upper)
        return Figure.histogram(edges: edges, contents: counts(values, edges), title: title, xLabel: xLabel, yLabel: "objects", logY: true)
    }

    /// Row-major Pearson correlation matrix of the residual columns (objects with any undefined residual left out).
    func correlations(original: ObjectData, decoded: ObjectData) -> [Double] {
        let columns = residuals.indices.map {
            ResidualSummary.residuals(input: original.variables[$0].values, output: decoded.variables[$0].values, relative: residuals[$0].relative)
        }
        let rows = (0..<objects).filter { row in columns.allSatisfy { !$0[row].isNaN } }
        let n = columns.count
        let means = columns.map { column in rows.reduce(0) { $0 + column[$1] } / Double(max(rows.count, 1)) }
        var matrix = [Double](repeating: 0, count: n * n)
        for a in 0..<n {
            for b in 0..<n {
                var ab = 0.0, aa = 0.0, bb = 0.0
                for row in rows {
                    let x = columns[a][row] - means[a], y = columns[b][row] - means[b]
                    ab += x * y; aa += x * x; bb += y * y
                }
                matrix[a * n + b] = aa > 0 && bb > 0 ? ab / (aa * bb).squareRoot() : (a == b ? 1 : 0)
            }
        }
        return matrix
    }
}
