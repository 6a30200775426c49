import ArgumentParser
import Foundation
import HEPMLCore
import HEPMLHCAL
import HEPMLTensor

/// `hepml bench hcal-scoring`: per-LS scoring latency of a trained model as an online scorer sees
/// it — a stream of lumisections, each scaled once and scored with the window of its last T LS
/// through `HCALScorer.scoreWindows` — batch 1 (median, p95, p99) and in batches of consecutive
/// LS (windows/s). The maps are random within the scaler's per-channel range, seeded.
struct BenchHCALScoring: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "hcal-scoring",
        abstract: "HCAL scoring latency of a trained model (batch 1 and batched, streamed windows).")

    @Option(name: .shortAndLong, help: "Run directory of a trained HCAL model.") var model: String
    @Option(help: "Lumisections scored one at a time (after 10 warm-up LS).") var lumisections = 300
    @Option(help: "Windows per call in the batched measurement.") var batch = 8
    @Option(help: "Batched calls.") var batches = 40
    @Option(help: "Seed for the maps.") var seed: UInt64 = 1

    func run() throws {
        guard lumisections > 0, batch > 0, batches > 0 else { throw ValidationError("--lumisections, --batch and --batches must be positive") }
        let scorer = try HCALScorer(runDirectory: model)
        let input = scorer.input, steps = input.options.steps
        var generator = SeededGenerator(seed: seed)
        let warmUp = 10
        // One scaled map per LS of the stream, scaled as an ingesting service scales it.
        func nextMap() -> [Float] {
            var map = (0..<input.channels).map { input.offset[$0] + input.range[$0] * Float(generator.nextUniform()) }
            map.withUnsafeMutableBufferPointer { input.scale($0) }
            return map
        }
        var stream: [[Float]] = (0..<(steps - 1)).map { _ in nextMap() }
        func window(endingAt index: Int) -> [Float] { stream[(index - steps + 1)...index].flatMap { $0 } }

        var latencies: [Double] = []
        for index in 0..<(warmUp + lumisections) {
            stream.append(nextMap())
            let start = ResourceUsage.now()
            _ = try scorer.scoreWindows([window(endingAt: stream.count - 1)], run: 1, lumisections: [index])
            if index >= warmUp { latencies.append(ResourceUsage.now() - start) }
        }
        latencies.sort()
        func percentile(_ p: Int) -> Double { latencies[min(latencies.count - 1, latencies.count * p / 100)] * 1000 }

        var batchedSeconds = 0.0
        for call in 0..<batches {
            let first = stream.count
            stream += (0..<batch).map { _ in nextMap() }
            let windows = (first..<stream.count).map { window(endingAt: $0) }
            let start = ResourceUsage.now()
            _ = try scorer.scoreWindows(windows, run: 1, lumisections: Array(first..<stream.count))
            if call > 0 { batchedSeconds += ResourceUsage.now() - start }
        }
        print("# hepml bench hcal-scoring: \(scorer.settings.model) \(input.options.subdetector.rawValue), T = \(steps), \(Parallel.threadCount) threads")
        print(String(format: "batch-1  median-ms %7.2f  p95-ms %7.2f  p99-ms %7.2f  LS/s %7.1f  (%d LS)", percentile(50), percentile(95), percentile(99),
                     Double(latencies.count) / latencies.reduce(0, +), latencies.count))
        print(String(format: "batch-%d  windows/s %7.1f  (%d calls)", batch, Double(batch * (batches - 1)) / batchedSeconds, batches - 1))
    }
}
