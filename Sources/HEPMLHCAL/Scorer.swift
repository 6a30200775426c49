import Foundation
import HEPMLCore
import HEPMLExperiment
import HEPMLNN
import HEPMLTensor

/// Per-lumisection scoring with a trained HCAL model — the library API behind `hepml hcal score`,
/// `evaluate` and an online scorer: raw occupancy map + NumEvents in, per-channel scores and flags
/// s > threshold out, for the window ending at each LS. The score (`ScoreKind`) is upstream's
/// spatial one, s = |reconstruction − input| / σ_train at the window's last LS, or its window
/// one, the mean over the window's T LS of |reconstruction − input| over σ_train of that mean
/// (scaled units both). The scorer keeps, per run, the last T − 1 LS it saw (its temporal state),
/// so a stream of LS is scored as sliding windows ending at each new LS; the first LS of a run
/// fill the window's missing history by repeating the earliest LS.
public final class HCALScorer {
    /// Production's ONNX export threshold on |e|/σ (the processor default is 25).
    public static let defaultThreshold: Float = 10

    /// Upstream's two normalized scores (`pred_err_spatial_scaled` and
    /// `pred_err_window_spatial_scaled`, `ignore_mean=True`). The window score sees a fault that
    /// persists over the window T times in its mean while the noise of the mean shrinks, so it
    /// separates faults of channels with few counts per LS that one LS cannot (docs/hcal.md); a
    /// fault on the last LS alone is diluted to 1/T of its error.
    public enum ScoreKind: String, Codable, CaseIterable, Sendable {
        /// |e| of the window's last LS over σ of |e| over the training LS.
        case lastLumisection = "last-ls"
        /// The mean of |e| over the window's LS (those where it is a number) over σ of that mean
        /// over the training windows.
        case window
    }

    /// The scoring file's tensor of each score's per-channel σ.
    static func sigmaTensor(_ kind: ScoreKind) -> String {
        switch kind {
        case .lastLumisection: return "sigma"
        case .window: return "window_sigma"
        }
    }

    public let input: HCALModelInput
    public let scoreKind: ScoreKind
    /// Per channel `[64, 72, depths]`, σ_train of the chosen score's error.
    public let sigma: [Float]
    public let settings: HCALTrainingSettings
    public var threshold: Float
    /// The run directory's scoring file: the mask and scaling the model was trained with.
    public let scoringFile: String
    let model: GraphModel<Float>
    /// The model evaluated step by step with its encoded LS cached (what scoring runs).
    private let network: HCALStepwiseNetwork
    /// Where the model came from (its files fingerprint the parts of a sharded scoring).
    let runDirectory: RunDirectory
    /// Per run, the scaled maps of its latest LS (at most T − 1), oldest first.
    private var history: [Int: [[Float]]] = [:]

    public struct Result: Sendable {
        public var run: Int
        public var lumisection: Int
        /// Per channel `[64, 72, depths]`; 0 on inactive channels.
        public var scores: [Float]
        public var flags: [Bool]
        /// The scaled input and reconstruction of the scored LS.
        public var target: [Float]
        public var reconstruction: [Float]
        public var flaggedCount: Int { flags.reduce(0) { $0 + ($1 ? 1 : 0) } }
        public var maximumScore: Float { scores.max() ?? 0 }
    }

    /// Loads the model and its scoring files from a run directory written by `HCALTraining.train`.
    /// A run trained before the window score has no window σ: `.window` then names what is missing
    /// and how to add it (`hcal train` again loads the model and writes it).
    public init(runDirectory path: String, threshold: Float = HCALScorer.defaultThreshold, score: ScoreKind = .lastLumisection) throws {
        let directory = RunDirectory(path)
        runDirectory = directory
        guard directory.isComplete else { throw HCALError("\(path) holds no trained model (run `hepml hcal train`)") }
        let optionsFile = directory.file(HCALRunFiles.options)
        guard let data = FileManager.default.contents(atPath: optionsFile) else { throw HCALError("\(path) has no \(HCALRunFiles.options)") }
        do { settings = try JSONDecoder().decode(HCALTrainingSettings.self, from: data) } catch {
            throw FileFormatError(file: optionsFile, reason: "\(error)")
        }
        let scoringFile = directory.file(HCALRunFiles.scoring)
        self.scoringFile = scoringFile
        let tensors = try SafeTensors.read(scoringFile, as: Float.self).tensors
        let depths = settings.options.subdetector.depthCount
        func tensor(_ name: String) throws -> [Float] {
            guard let value = tensors[name], value.shape == [HCALIndex.etaCount, HCALIndex.phiCount, depths] else {
                throw FileFormatError(file: scoringFile, object: name, reason: "missing or not of shape [64, 72, \(depths)]")
            }
            return value.scalars
        }
        let mask = HCALMask(subdetector: settings.options.subdetector, active: try tensor("mask").map { $0 != 0 })
        input = try HCALModelInput(options: settings.options, mask: mask, offset: try tensor("offset"), range: try tensor("range"))
        guard tensors[Self.sigmaTensor(score)] != nil else {
            throw FileFormatError(file: scoringFile, object: Self.sigmaTensor(score),
                                  reason: "missing: the run was trained before the \(score.rawValue) score existed; "
                                      + "`hepml hcal train` with the same options and data set loads the model and adds it")
        }
        scoreKind = score
        sigma = try tensor(Self.sigmaTensor(score))
        model = try directory.loadModel()
        network = try HCALStepwiseNetwork(model: model, input: input)
        self.threshold = threshold
    }

    /// Refuses a data set whose mask or scaling differs from training's (another data set, or a
    /// changed `mask.npy`/`scaler.npy`), naming the file that differs.
    public func requireTrainingScaling(of dataset: HCALDataset) throws {
        let differing = dataset.mask.active != input.mask.active ? "mask.npy"
            : (dataset.offset != input.offset || dataset.range != input.range ? "scaler.npy" : nil)
        guard let differing else { return }
        throw HCALError("\(HCALDataset.file(differing, in: dataset.directory)) differs from the one in \(scoringFile): "
            + "the model was trained on another data set, or the file changed")
    }

    /// Forgets the history of `run` (its next LS starts a fresh window).
    public func reset(run: Int) { history[run] = nil }

    /// Scores one LS of a stream: `occupancy` is the raw (count) map `[64, 72, depths]` in emap
    /// order, `numEvents` the LS's events.
    public func score(run: Int, lumisection: Int, occupancy: [Float], numEvents: Int) throws -> Result {
        guard occupancy.count == input.channels else {
            throw HCALError("run \(run) LS \(lumisection): map has \(occupancy.count) channels, the model takes \(input.channels)")
        }
        let divisor = Float(max(numEvents, 1))
        var scaled = occupancy.map { $0 / divisor }
        scaled.withUnsafeMutableBufferPointer { input.scale($0) }
        var past = history[run] ?? []
        let steps = input.options.steps
        var window: [Float] = []
        for step in 0..<(steps - 1) {
            let index = past.count - (steps - 1) + step
            window += index >= 0 ? past[index] : (past.first ?? scaled)
        }
        window += scaled
        past.append(scaled)
        if past.count > steps - 1 { past.removeFirst(past.count - (steps - 1)) }
        history[run] = past
        return try scoreWindows([window], run: run, lumisections: [lumisection])[0]
    }

    /// Scores the last LS of each scaled window `[T, 64, 72, depths]` (batch use: score, evaluate,
    /// an online service). Windows that share LS with earlier ones (a stream's sliding windows)
    /// reuse those LS's encoder output (`HCALStepwiseNetwork`); the window score decodes every
    /// step, the last-LS score the last one only.
    public func scoreWindows(_ windows: [[Float]], run: Int, lumisections: [Int]) throws -> [Result] {
        guard lumisections.count == windows.count else {
            throw HCALError("run \(run): \(windows.count) windows but \(lumisections.count) lumisection numbers")
        }
        let steps = input.options.steps
        let decoded = scoreKind == .window ? 0..<steps : (steps - 1)..<steps
        var results: [Result] = []
        for start in stride(from: 0, to: windows.count, by: 16) {
            let batch = Array(windows[start..<min(start + 16, windows.count)])
            for (offset, reconstruction) in try network.reconstruct(batch, steps: decoded).enumerated() {
                results.append(result(run: run, lumisection: lumisections[start + offset], window: batch[offset], reconstruction: reconstruction))
            }
        }
        return results
    }

    /// The result of a window from the reconstruction of its scored steps (the last LS, or every
    /// LS for the window score).
    func result(run: Int, lumisection: Int, window: [Float], reconstruction: [Float]) -> Result {
        let channels = input.channels, steps = input.options.steps, last = (steps - 1) * channels
        let errors = Self.meanAbsoluteErrors(reconstruction, targets: Array(window[(window.count - reconstruction.count)...]), channels: channels,
                                             active: input.mask.active)
        var scores = [Float](repeating: 0, count: channels), flags = [Bool](repeating: false, count: channels)
        for channel in 0..<channels where input.mask.active[channel] {
            let score = errors[channel] / sigma[channel]
            scores[channel] = score
            flags[channel] = score > threshold
        }
        let lastReconstruction = Array(reconstruction[(reconstruction.count - channels)...])
        return Result(run: run, lumisection: lumisection, scores: scores, flags: flags, target: Array(window[last..<(last + channels)]),
                      reconstruction: lastReconstruction)
    }

    /// Per active channel the mean over the steps of `reconstructions` (`[S, channels]`) of
    /// |reconstruction − target| where it is a number (upstream's NaN-aware mean; NaN where no
    /// step is); S = 1 is the last-LS error, S = T the window error. 0 on inactive channels.
    static func meanAbsoluteErrors(_ reconstructions: [Float], targets: [Float], channels: Int, active: [Bool]) -> [Float] {
        var sums = [Float](repeating: 0, count: channels), counts = [Int](repeating: 0, count: channels)
        for step in 0..<(reconstructions.count / channels) {
            for channel in 0..<channels where active[channel] {
                let error = abs(reconstructions[step * channels + channel] - targets[step * channels + channel])
                if !error.isNaN { sums[channel] += error; counts[channel] += 1 }
            }
        }
        return (0..<channels).map { active[$0] ? (counts[$0] > 0 ? sums[$0] / Float(counts[$0]) : .nan) : 0 }
    }

    /// Reconstructions (scaled, `[T, 64, 72, depths]`, every step) of scaled windows through the
    /// whole network in inference mode, RIN and side split applied around it (training's σ needs
    /// every step; scoring runs `HCALStepwiseNetwork`).
    static func reconstruct(_ model: GraphModel<Float>, input: HCALModelInput, windows: [[Float]]) throws -> [[Float]] {
        guard !windows.isEmpty else { return [] }
        model.setTraining(false)
        let perWindow = input.sides * input.sampleSize
        let (samples, means) = input.networkBatch(windows)
        let tensor = try Tensor<Float>(shape: [windows.count * input.sides] + input.options.inputShape, scalars: samples)
        let outputs = try model([Variable(tensor)])[0].value.scalars
        return windows.indices.map { index in
            var reconstruction = [Float](repeating: 0, count: windows[index].count)
            outputs.withUnsafeBufferPointer { source in
                reconstruction.withUnsafeMutableBufferPointer { target in
                    input.reconstruction(UnsafeBufferPointer(rebasing: source[(index * perWindow)..<((index + 1) * perWindow)]), ringMeans: means[index], into: target)
                }
            }
            return reconstruction
        }
    }
}
