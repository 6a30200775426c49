import Foundation
import HEPMLCore
import HEPMLMetrics
import HEPMLNN
import HEPMLPlot

/// The summary table and the HTML report of a run: every network's autoencoder next to every
/// baseline on the same validation modules and eLink budget.
public struct EvaluationReport {
    public let options: StudyOptions
    public let budget: ELinkBudget
    public let data: StudyData
    public let models: [ModelResult]
    public let baselines: [AlgorithmResult]

    public init(options: StudyOptions, budget: ELinkBudget, data: StudyData, models: [ModelResult], baselines: [AlgorithmResult]) {
        self.options = options
        self.budget = budget
        self.data = data
        self.models = models
        self.baselines = baselines
    }

    var metrics: [ModuleMetric] { ModuleMetric.selection(full: options.full) }

    /// Every algorithm in report order: each network's autoencoder (named by its run), then the baselines.
    var algorithms: [(label: String, result: AlgorithmResult, model: ModelResult?)] {
        models.map { ("ae \($0.runName)", $0.evaluation.autoencoder, $0) } + baselines.map { (Self.baselineLabel($0.name), $0, nil) }
    }

    func baselineLabelFor(_ name: String) -> String { Self.baselineLabel(name, budget: budget) }

    static func baselineLabel(_ name: String, budget: ELinkBudget? = nil) -> String {
        switch name {
        case "thr_lo": return "thr_lo (>1.35 MIP_T)"
        case "thr_hi": return "thr_hi (>2 MIP_T)"
        case "stc": return "stc (16-TC blocks)"
        case "stc4": return "stc4 (2×2 groups)"
        case "bc": return budget.map { "bc (\($0.bestChoiceCells) cells)" } ?? "bc (best choice)"
        default: return name
        }
    }

    public struct SummaryTable {
        public var headers: [String]
        public var rows: [[String]]
        public var text: String {
            let widths = headers.indices.map { column in ([headers[column]] + rows.map { $0[column] }).map(\.count).max() ?? 0 }
            func line(_ cells: [String]) -> String {
                cells.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }.joined(separator: "  ")
            }
            return ([line(headers)] + rows.map(line)).joined(separator: "\n")
        }
        public var csv: String { ([headers] + rows).map { $0.joined(separator: ",") }.joined(separator: "\n") + "\n" }
    }

    /// Mean ± std per metric and algorithm (empty-module sentinels counted apart), the median
    /// EMD, and the encoder's parameters and FLOPs for the autoencoders.
    public func summaryTable() -> SummaryTable {
        var headers = ["algorithm", "modules"]
        for metric in metrics { headers += ["\(metric.rawValue) mean", "\(metric.rawValue) std"] }
        headers += ["EMD median", "empty input", "empty output", "encoder params", "encoder FLOPs"]
        let rows: [[String]] = algorithms.map { label, result, model in
            var row = [model == nil ? baselineLabelFor(result.name) : label, "\(data.split.validation.count)"]
            for metric in metrics {
                let summary = result.summary(metric)
                row += [summary.map { String(format: "%.4f", $0.mean) } ?? "", summary.map { String(format: "%.4f", $0.standardDeviation) } ?? ""]
            }
            let emd = result.summary(.emd)
            row += [emd.map { String(format: "%.4f", $0.median) } ?? "", "\(emd?.emptyInputCount ?? 0)", "\(emd?.emptyOutputCount ?? 0)"]
            if let model {
                row += ["\(model.autoencoder.encoderParameterCount)", model.autoencoder.encoderFLOPs.map(String.init) ?? "n/a"]
            } else {
                row += ["", ""]
            }
            return row
        }
        return SummaryTable(headers: headers, rows: rows)
    }

    /// Writes the report directory and returns the path of its index.html.
    @discardableResult
    public func write(to directory: String) throws -> String {
        var report = Report(title: "ECON-T autoencoder vs. baselines",
                            subtitle: "\(data.split.validation.count) validation modules, \(budget.links) eLinks (\(budget.latentBits)-bit latents, best choice \(budget.bestChoiceCells) cells)")
        for model in models {
            if let emd = model.evaluation.autoencoder.summary(.emd) {
                report.add(.init("EMD \(model.runName)", emd.mean, uncertainty: emd.standardDeviation, digits: 3))
            }
        }
        for baseline in baselines {
            if let emd = baseline.summary(.emd) { report.add(.init("EMD \(baseline.name)", emd.mean, uncertainty: emd.standardDeviation, digits: 3)) }
        }
        let summary = summaryTable()
        report.add(.init("Summary", [
            .paragraph("Every algorithm reconstructs the same validation modules from the same eLink budget; metrics compare with the input charges in MIP_T, CALQ order. Modules with an empty input (−1) or an empty reconstruction (−0.5) are counted in their own columns and not averaged in. At low pile-up few TCs are hit, so best choice with \(budget.bestChoiceCells) cells often sends every hit TC and is nearly lossless, and the thresholds zero most modules: read the EMD means together with the empty-output counts."),
            .table(Report.Table(caption: "Summary (mean ± std over modules with a value)", headers: summary.headers,
                                rows: summary.rows.map { $0.map { Report.Cell.text($0) } })),
        ]))
        var distributions: [Report.Block] = []
        for metric in metrics {
            distributions.append(.figure(histogramOverlay(metric), name: "hist_\(metric.rawValue)", caption: "\(metric.rawValue) per module, all algorithms"))
            distributions.append(.figure(try profileOverlay(metric, x: \.occupancy, binning: EvaluationBinning.occupancy, xLabel: "Occupancy (TCs > 1 MIP_T)"),
                                         name: "overlay_occ_\(metric.rawValue)", caption: "Median \(metric.rawValue) vs occupancy"))
            distributions.append(.figure(try profileOverlay(metric, x: \.logMaxCharge, binning: EvaluationBinning.logMaxCharge, xLabel: "log10(max TC charge / MIP_T)"),
                                         name: "overlay_chg_\(metric.rawValue)", caption: "Median \(metric.rawValue) vs max charge"))
        }
        report.add(.init("Distributions and overlays", distributions))
        var profiles: [Report.Block] = []
        for (label, result, _) in algorithms {
            profiles.append(.figure(try profile(result, label: label, metric: .emd, x: \.occupancy, binning: EvaluationBinning.occupancy,
                                            xLabel: "Occupancy (TCs > 1 MIP_T)"), name: "profile_occ_EMD_\(result.name)", caption: "\(label): EMD vs occupancy (median, 68 %)"))
            profiles.append(.figure(try profile(result, label: label, metric: .emd, x: \.logMaxCharge, binning: EvaluationBinning.logMaxCharge,
                                            xLabel: "log10(max TC charge / MIP_T)"), name: "profile_maxQ_EMD_\(result.name)", caption: "\(label): EMD vs max charge (median, 68 %)"))
        }
        report.add(.init("EMD profiles per algorithm", profiles))
        for model in models {
            var blocks: [Report.Block] = [.paragraph(modelParagraph(model))]
            if let history = model.history, !history.epochs.isEmpty {
                blocks.append(.figure(.lossCurves([("training", history.epochs.map(\.trainLoss)),
                                                   ("validation", history.epochs.map { $0.validationLoss ?? .nan })], title: model.runName),
                                      name: "history_\(model.runName)", caption: "Training history"))
            }
            blocks.append(.figure(examples(model), name: "ae_examples_\(model.runName)", caption: "Example modules: input, autoencoder output, 16-value latent"))
            blocks.append(.figure(weightHistograms(model), name: "weights_\(model.runName)", caption: "Weight and bias histograms"))
            report.add(.init("Network \(model.runName)", blocks))
        }
        return try report.write(to: directory)
    }

    func modelParagraph(_ model: ModelResult) -> String {
        let network = model.autoencoder.network
        var text = "\(network.label): \(network.quantized ? "quantized (QKeras bit settings, \(budget.latentBits)-bit latents)" : "float") encoder with \(model.autoencoder.encoderParameterCount) parameters, decoder with \(model.autoencoder.decoderParameterCount), loss \(network.loss.name)."
        if let history = model.history {
            text += " Trained \(history.epochs.count) epochs; weights of epoch \(history.restoredEpoch ?? history.epochs.count) kept."
        }
        if let seconds = model.trainingSeconds { text += String(format: " Training took %.1f s.", seconds) }
        return text
    }

    func valid(_ values: [Double]) -> [Bool] {
        values.map { $0 != ModuleMetric.emptyInputValue && $0 != ModuleMetric.emptyOutputValue && !$0.isNaN }
    }

    func histogramOverlay(_ metric: ModuleMetric) -> Figure {
        let all = algorithms.compactMap { $0.result.values(metric) }.flatMap { values in values.filter { $0 >= 0 } }.sorted()
        let upper = Swift.max(Quantile.ofSorted(all, 0.99) * 1.2, 1e-3)
        // Values above the 99 % quantile × 1.2 are drawn in the last bin.
        let binning = Binning(count: 50, lower: 0, upper: upper.isNaN ? 1 : upper)
        let series: [Series] = algorithms.enumerated().compactMap { index, entry in
            guard let values = entry.result.values(metric) else { return nil }
            return .histogram(edges: binning.edges, contents: binning.clampedCounts(values.filter { $0 >= 0 }), label: entry.label,
                              color: Palette.cycleColor(index, of: algorithms.count))
        }
        return Figure(Axes(xLabel: metric.rawValue, yLabel: "Modules", yScale: .log, series: series, legend: .upperRight))
    }

    func profilePoints(_ result: AlgorithmResult, metric: ModuleMetric, x: [Double], binning: Binning) throws -> QuantileProfile? {
        guard let values = result.values(metric) else { return nil }
        let keep = valid(values)
        return try QuantileProfile(x: zip(x, keep).filter { $0.1 }.map(\.0), y: zip(values, keep).filter { $0.1 }.map(\.0), binning: binning)
    }

    func axisValues(_ key: KeyPath<Evaluation, [Double]>) -> [Double] {
        // Occupancy and max charge depend only on the validation inputs, identical for every network.
        if let first = models.first { return first.evaluation[keyPath: key] }
        let input = Evaluation.inputCharges(data.validationNormalized)
        return key == \Evaluation.occupancy ? Evaluation.occupancy(input) : data.validationNormalized.maxChargeMIPT.map { log10($0) }
    }

    func profileOverlay(_ metric: ModuleMetric, x key: KeyPath<Evaluation, [Double]>, binning: Binning, xLabel: String) throws -> Figure {
        let x = axisValues(key)
        var series: [Series] = []
        for (index, entry) in algorithms.enumerated() {
            guard let profile = try profilePoints(entry.result, metric: metric, x: x, binning: binning) else { continue }
            let bins = profile.bins.filter { $0.count > 0 }
            series.append(.line(x: bins.map(\.center), y: bins.map(\.median), label: entry.label, color: Palette.cycleColor(index, of: algorithms.count)))
        }
        return Figure(Axes(xLabel: xLabel, yLabel: "median \(metric.rawValue)", series: series, legend: .upperRight))
    }

    func profile(_ result: AlgorithmResult, label: String, metric: ModuleMetric, x key: KeyPath<Evaluation, [Double]>, binning: Binning, xLabel: String) throws -> Figure {
        let bins = try profilePoints(result, metric: metric, x: axisValues(key), binning: binning)?.bins.filter { $0.count > 0 } ?? []
        let x = bins.map(\.center)
        return Figure(Axes(title: label, xLabel: xLabel, yLabel: metric.rawValue, series: [
            .band(x: x, lower: bins.map(\.lower), upper: bins.map(\.upper), label: "68 %"),
            .line(x: x, y: bins.map(\.median), label: "median"),
        ], legend: .upperRight))
    }

    /// Eight modules (seeded choice): input and output in the 8×8 layout (absolute charge, MIP_T)
    /// and the 16 latents as a 4×4 image.
    /// 8 random validation modules: input wafer, output wafer (both in MIP_T, one colour scale)
    /// and the latent code (its own scale: latents are not charges), one colour bar per row.
    func examples(_ model: ModelResult) -> Figure {
        let evaluation = model.evaluation
        var generator = SeededGenerator(seed: options.seed, stream: 0xE4A)
        let picks = Array(generator.permutation(evaluation.rows).prefix(8))
        let layout = Arrangement.eightByEight
        func image(_ charges: [Double], _ row: Int) -> (values: [Double], mask: [Bool]) {
            let module = Array(charges[row * triggerCellCount ..< (row + 1) * triggerCellCount])
            let pixels = layout.arrange(module, rows: 1)
            // Heatmap rows run upwards; image row 0 is drawn at the top.
            let flipped: [Int] = (0..<64).map { (cell: Int) -> Int in (7 - cell / 8) * 8 + cell % 8 }
            return (flipped.map { Double(pixels[$0]) }, flipped.map { !layout.inputMask[$0] })  // true marks the padding quadrant
        }
        let width = model.autoencoder.latentWidth
        let side = Int(Double(width).squareRoot())
        let latentColumns = side * side == width ? side : width
        let latentRows = width / latentColumns
        let inputs = picks.map { image(evaluation.inputCalQ, $0) }
        let outputs = picks.map { image(evaluation.autoencoder.output, $0) }
        let latents: [[Double]] = picks.map { row in
            let code = evaluation.latent[row * width ..< (row + 1) * width].map(Double.init)
            return (0..<width).map { cell in code[(latentRows - 1 - cell / latentColumns) * latentColumns + cell % latentColumns] }
        }
        func scale(_ values: [[Double]]) -> ColorScale {
            let high = values.joined().filter(\.isFinite).max() ?? 1
            return ColorScale(range: 0...(high > 0 ? high : 1))
        }
        let chargeScale = scale(inputs.map(\.values) + outputs.map(\.values))
        let latentScale = scale(latents)
        var panels: [Panel] = []
        func add(_ map: Heatmap, title: String, last: Bool, label: String) {
            var map = map
            map.showsColorbar = last
            map.colorbarLabel = last ? label : nil
            panels.append(Panel(Axes(title: title, series: [.heatmap(map)], legend: .hidden)))
        }
        for (index, (row, picture)) in zip(picks, inputs).enumerated() {
            add(Heatmap(columns: 8, rows: 8, values: picture.values, mask: picture.mask, colorScale: chargeScale),
                title: "input \(row)", last: index == picks.count - 1, label: "charge (MIP_T)")
        }
        for (index, (row, picture)) in zip(picks, outputs).enumerated() {
            add(Heatmap(columns: 8, rows: 8, values: picture.values, mask: picture.mask, colorScale: chargeScale),
                title: "output \(row)", last: index == picks.count - 1, label: "charge (MIP_T)")
        }
        for (index, (row, code)) in zip(picks, latents).enumerated() {
            add(Heatmap(columns: latentColumns, rows: latentRows, values: code, colorScale: latentScale),
                title: "latent \(row)", last: index == picks.count - 1, label: "latent value")
        }
        let columns = Swift.max(picks.count, 1)
        return Figure(width: 120 * Double(columns) + 90, height: 110 * 3 + 24, rows: 3, columns: columns, panels: panels, title: model.runName)
    }

    func weightHistograms(_ model: ModelResult) -> Figure {
        let tensors = model.autoencoder.encoder.namedParameters().map { ("encoder.\($0.0)", $0.1.value.scalars) }
            + model.autoencoder.decoder.namedParameters().map { ("decoder.\($0.0)", $0.1.value.scalars) }
        let panels: [Panel] = tensors.map { name, values in
            let low = Double(values.min() ?? 0), high = Double(values.max() ?? 0)
            let binning = Binning(count: 30, lower: low, upper: high > low ? high : low + 1)
            let counts = binning.clampedCounts(values.lazy.map(Double.init))
            return Panel(Axes(title: name, series: [.histogram(edges: binning.edges, contents: counts, style: .filled)], legend: .hidden))
        }
        let columns = 4
        let rows = Swift.max((panels.count + columns - 1) / columns, 1)
        return Figure(width: 220 * Double(columns), height: 170 * Double(rows), rows: rows, columns: columns, panels: panels, title: "\(model.runName) weights")
    }
}
