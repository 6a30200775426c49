import Foundation
import HEPMLColumnar
import HEPMLCore
import HEPMLNN
import HEPMLPlot

/// `hepml batch collect` of a sweep: one row per grid point (its parameters, how its task ended,
/// its final metrics from the training history in its run directory) as `sweep.parquet`, and an
/// HTML report: the objective against each parameter, the best points, the failed points with
/// their errors.
public enum SweepCollection {
    /// The metrics read from every `history.json` (a `TrainingHistory`) under a point's run
    /// directory; a point with several (one model per histogram, say) gets their means.
    public static let metricNames = ["epochs_trained", "final_train_loss", "final_validation_loss", "best_validation_loss", "best_epoch"]

    public struct PointResult: Sendable {
        public var task: Int
        public var point: SweepPoint
        public var status: TaskStatus
        /// Per metric name its value; absent when the point has no history (or no validation).
        public var metrics: [String: Double]
        public var histories: Int
        /// Why the point has no result: its task's error, or a missing history.
        public var error: String?
    }

    public struct Result: Sendable {
        public var points: [PointResult]
        /// The metric the report ranks by (lower is better): the best validation loss when the
        /// runs have validation, else the final training loss.
        public var objective: String
        public var tablePath: String
        public var reportPath: String
    }

    /// Collects a finished sweep; fails while tasks are still pending or running.
    public static func collect(_ job: BatchJob, in directory: BatchDirectory, statuses: [TaskStatus]) throws -> Result {
        guard job.kind == .sweep else { throw BatchError("\(directory.path) holds a job array, not a sweep") }
        let active = statuses.filter { $0.state == .pending || $0.state == .running }
        guard active.isEmpty else {
            throw BatchError("\(active.count) task(s) still pending or running: \(BatchStatus.summary(statuses)); collect when they are done")
        }
        var records: [TaskRecord?] = []
        for task in 0..<job.taskCount { records.append(try directory.record(task: task)) }
        var points: [PointResult] = []
        for status in statuses {
            var result = PointResult(task: status.task, point: job.points[status.task], status: status, metrics: [:], histories: 0, error: nil)
            if status.state == .succeeded {
                let histories = try histories(under: directory.runDirectory(task: status.task))
                result.histories = histories.count
                result.metrics = means(histories.map(finalMetrics))
                if histories.isEmpty { result.error = "no history.json under \(directory.runDirectory(task: status.task))" }
            } else {
                result.error = records[status.task]?.errorTail ?? status.detail
            }
            points.append(result)
        }
        let validated = points.contains { $0.metrics["best_validation_loss"] != nil }
        let objective = validated ? "best_validation_loss" : "final_train_loss"
        let tablePath = directory.file("sweep.parquet")
        try Parquet.write(try table(points, parameters: job.parameters), to: tablePath)
        let reportPath = try report(points, job: job, objective: objective).write(to: directory.file("report"))
        return Result(points: points, objective: objective, tablePath: tablePath, reportPath: reportPath)
    }

    static func histories(under path: String) throws -> [TrainingHistory] {
        guard let walker = FileManager.default.enumerator(atPath: path) else { return [] }
        var files: [String] = []
        for case let relative as String in walker where (relative as NSString).lastPathComponent == "history.json" {
            files.append((path as NSString).appendingPathComponent(relative))
        }
        return try files.sorted().map { file in
            guard let data = FileManager.default.contents(atPath: file) else { throw FileFormatError(file: file, reason: "cannot read") }
            do {
                return try JSONDecoder().decode(TrainingHistory.self, from: data)
            } catch {
                throw FileFormatError(file: file, reason: "not a training history: \(error)")
            }
        }
    }

    static func finalMetrics(_ history: TrainingHistory) -> [String: Double] {
        guard let last = history.epochs.last else { return [:] }
        var metrics = ["epochs_trained": Double(last.epoch), "final_train_loss": last.trainLoss]
        if let validation = last.validationLoss { metrics["final_validation_loss"] = validation }
        if let best = history.epochs.filter({ $0.validationLoss != nil }).min(by: { ($0.validationLoss ?? 0) < ($1.validationLoss ?? 0) }),
           let loss = best.validationLoss {
            metrics["best_validation_loss"] = loss
            metrics["best_epoch"] = Double(best.epoch)
        }
        return metrics
    }

    /// Per metric the mean over the runs that have it.
    static func means(_ runs: [[String: Double]]) -> [String: Double] {
        var sums: [String: (total: Double, count: Int)] = [:]
        for run in runs {
            for (name, value) in run { sums[name, default: (0, 0)] = (sums[name, default: (0, 0)].total + value, sums[name, default: (0, 0)].count + 1) }
        }
        return sums.mapValues { $0.total / Double($0.count) }
    }

    /// Column names of the sweep table besides the parameters'.
    static var reservedColumnNames: [String] { ["task", "status", "histories", "error"] + metricNames }

    /// One row per point: `task`, the parameters (float64 when all numbers, else strings),
    /// `status`, the metrics (null where absent), `histories`, `error`.
    static func table(_ points: [PointResult], parameters: [String]) throws -> Table {
        var columns = [try Column(name: "task", int64: points.map { Int64($0.task) })]
        for name in parameters {
            let values = points.map { $0.point.values[name] }
            let numbers = values.map { $0?.number }
            if numbers.allSatisfy({ $0 != nil }) {
                columns.append(try Column(name: name, float64: numbers.map { $0 ?? .nan }))
            } else {
                columns.append(try Column(name: name, strings: values.map { $0?.argument }))
            }
        }
        columns.append(try Column(name: "status", strings: points.map { $0.status.state.rawValue }))
        for metric in metricNames {
            let values = points.map { $0.metrics[metric] }
            columns.append(try Column(name: metric, float64: values.map { $0 ?? .nan }, validity: values.map { $0 != nil }))
        }
        columns.append(try Column(name: "histories", int64: points.map { Int64($0.histories) }))
        columns.append(try Column(name: "error", strings: points.map(\.error)))
        return try Table(columns: columns)
    }

    static func report(_ points: [PointResult], job: BatchJob, objective: String) -> Report {
        let succeeded = points.filter { $0.metrics[objective] != nil }.sorted { ($0.metrics[objective] ?? 0) < ($1.metrics[objective] ?? 0) }
        let failed = points.filter { $0.metrics[objective] == nil }
        var report = Report(title: "Hyperparameter sweep", subtitle: job.command.joined(separator: " "))
        report.add(Report.Metric("points", text: String(points.count)))
        report.add(Report.Metric("with results", text: String(succeeded.count)))
        report.add(Report.Metric("failed or without results", text: String(failed.count)))
        if let best = succeeded.first, let value = best.metrics[objective] { report.add(Report.Metric("best \(objective)", value, digits: 5)) }

        let parameterHeaders = job.parameters
        let best = Report.Table(
            caption: "Lowest \(objective) first",
            headers: ["task"] + parameterHeaders + metricNames,
            rows: succeeded.prefix(10).map { point in
                [Report.Cell.integer(point.task)] + parameterHeaders.map { cell(point.point.values[$0]) }
                    + metricNames.map { name in point.metrics[name].map { Report.Cell.number($0, digits: 5) } ?? Report.Cell.text("") }
            })
        report.add(Report.Section("Best points", [.table(best)]))

        let numeric = parameterHeaders.filter { name in points.allSatisfy { $0.point.values[name]?.number != nil } }
        if !numeric.isEmpty, !succeeded.isEmpty {
            let panels = numeric.map { name -> Panel in
                let x = succeeded.compactMap { $0.point.values[name]?.number }
                let y = succeeded.compactMap { $0.metrics[objective] }
                let all = points.compactMap { $0.point.values[name]?.number }
                let logarithmic = (all.min() ?? 0) > 0 && (all.max() ?? 0) / (all.min() ?? 1) >= 100
                return Panel(Axes(xLabel: name, yLabel: objective, xScale: logarithmic ? .log : .linear, series: [.scatter(x: x, y: y)], legend: .hidden))
            }
            let columns = min(numeric.count, 3)
            let rows = (numeric.count + columns - 1) / columns
            let figure = Figure(width: 340 * Double(columns), height: 280 * Double(rows), rows: rows, columns: columns, panels: panels)
            report.add(Report.Section("\(objective) against each parameter", [.figure(figure, name: "objective-vs-parameters", caption: nil)]))
        }

        let failures = Report.Table(
            headers: ["task"] + parameterHeaders + ["status", "error"],
            rows: failed.map { point in
                [Report.Cell.integer(point.task)] + parameterHeaders.map { cell(point.point.values[$0]) }
                    + [Report.Cell.text(point.status.state.rawValue), Report.Cell.text(point.error ?? "")]
            })
        report.add(Report.Section("Failed points", failed.isEmpty ? [.paragraph("Every point has a result.")] : [.table(failures)]))
        return report
    }

    private static func cell(_ value: SweepValue?) -> Report.Cell {
        switch value {
        case .number(let number): return .text(SweepValue.number(number).argument)
        case .text(let text): return .text(text)
        case nil: return ""
        }
    }
}
