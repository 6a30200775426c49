import Foundation
import HEPMLCore
import HEPMLMetrics
import HEPMLTestSupport
import Testing

/// The metrics against scikit-learn and scipy on seeded random inputs.
@Suite struct MetricsInteropTests {
    @Test("ROC AUC equals scikit-learn's roc_auc_score, ties included; Clopper–Pearson equals scipy's beta.ppf", .requiresPython)
    func aucAndIntervalsMatchPython() throws {
        let python = try TestEnvironment.python()
        var generator = SeededGenerator(seed: 2024)
        var samples: [(scores: [Double], labels: [Bool])] = []
        for size in [7, 50, 1000, 20000] {
            let labels = (0..<size).map { _ in generator.nextUniform() < 0.3 }
            // Scores rounded to two decimals so that many positives and negatives tie.
            let scores = labels.map { (($0 ? 0.6 : 0) + generator.nextNormal()).rounded(toPlaces: 2) }
            samples.append((scores, labels))
        }
        let counts = (0..<40).map { _ -> [Int] in
            let trials = 1 + Int(generator.next() % 5000)
            return [Int(generator.next() % UInt64(trials + 1)), trials]
        } + [[0, 1], [1, 1], [0, 100000], [100000, 100000]]
        let coverages = [0.6827, BinomialInterval.oneSigmaCoverage, 0.9, 0.95, 0.99]
        let input: [String: Any] = [
            "samples": samples.map { ["scores": $0.scores, "labels": $0.labels.map { $0 ? 1 : 0 }] },
            "counts": counts, "coverages": coverages,
        ]
        let directory = try TestEnvironment.temporaryDirectory("metrics-interop")
        defer { try? FileManager.default.removeItem(at: directory) }
        let inputPath = directory.appendingPathComponent("input.json").path
        try JSONSerialization.data(withJSONObject: input).write(to: URL(fileURLWithPath: inputPath))
        let script = """
        import json, sys
        from sklearn.metrics import roc_auc_score
        from scipy.stats import beta
        data = json.load(open(sys.argv[1]))
        aucs = [roc_auc_score(s["labels"], s["scores"]) for s in data["samples"]]
        intervals = []
        for k, n in data["counts"]:
            for c in data["coverages"]:
                a = (1 - c) / 2
                intervals.append([0.0 if k == 0 else float(beta.ppf(a, k, n - k + 1)), 1.0 if k == n else float(beta.ppf(1 - a, k + 1, n - k))])
        print(json.dumps({"aucs": aucs, "intervals": intervals}))
        """
        let result = try TestEnvironment.runPython(python, script: script, arguments: [inputPath])
        #expect(result.status == 0, "\(result.output)")
        let line = try #require(result.output.split(separator: "\n").last)
        let expected = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        let aucs = try #require(expected["aucs"] as? [Double])
        for (sample, auc) in zip(samples, aucs) {
            let curve = try ROCCurve(scores: sample.scores, isPositive: sample.labels)
            #expect(abs(curve.auc - auc) < 1e-12, "\(sample.scores.count) entries: \(curve.auc) vs \(auc)")
        }
        let intervals = try #require(expected["intervals"] as? [[Double]])
        var index = 0
        for pair in counts {
            for coverage in coverages {
                let interval = try BinomialInterval.clopperPearson(successes: pair[0], trials: pair[1], coverage: coverage)
                let bounds = intervals[index]
                #expect(close(interval.lower, bounds[0], relative: 1e-10) && close(interval.upper, bounds[1], relative: 1e-10),
                        "\(pair[0]) of \(pair[1]) at \(coverage): [\(interval.lower), \(interval.upper)] vs \(bounds)")
                index += 1
            }
        }
    }
}

private extension Double {
    func rounded(toPlaces places: Int) -> Double {
        let scale = pow(10, Double(places))
        return (self * scale).rounded() / scale
    }
}
