import Foundation
import HEPMLNN
import HEPMLTensor

/// A trained HCAL network run the way scoring needs it: the encoder once per distinct LS, the
/// bottleneck over the window, the decoder for the steps the score needs (the last LS's score the
/// last step alone, the window score every step).
///
/// This gives the full-window forward pass's reconstructions (to float rounding) because
/// of the layout of `HCALModelOptions.spec()`: the encoder's convolutions have depth kernel 1 and
/// its poolings pair depth slots inside each step's power-of-two block down to one slot per step
/// (and the graph block gathers, convolves and pools each step's nodes apart from the others'),
/// the decoder's transposed convolutions (depth kernel 1, or 2 with stride 2) expand each step's
/// slot into that step's own block again, batch norm in inference mode and the activations act
/// per element, and RIN's ring means are per step. So a step's encoder features depend on its
/// scaled map alone, and each step's reconstruction on the bottleneck's output at that step alone. In a
/// stream T − 1 of a window's T steps were encoded for the previous windows; a bounded
/// least-recently-used cache keyed by the content of the scaled step map finds them again
/// without any change to the scorer's API (a hit is confirmed by comparing the maps, so a hash
/// collision costs a comparison, never a wrong score).
final class HCALStepwiseNetwork {
    /// Encoded steps kept: the T − 1 latest LS of 16 interleaved runs (about 8.4 MB for HE).
    static let cacheCapacity = 64

    private struct EncodedStep {
        /// The scaled step map `[64, 72, depths]` the entry was computed from.
        var map: [Float]
        /// The step blocks' outputs side by side, for each side: `sides × features`.
        var features: [Float]
        var ringMeans: [Float]
        var lastUse: UInt64
    }

    let input: HCALModelInput
    /// The blocks the bottleneck reads (the CNN encoder, and the graph block of GraphSTAD), each
    /// from the maps alone with per-sample output `[T, width]`, and their widths.
    private let stepBlocks: [(block: Sequential<Float>, width: Int)]
    private let bottleneck: Sequential<Float>, decoder: Sequential<Float>
    /// Values per sample of one step's encoded features (the step blocks' outputs side by side).
    private let features: Int
    /// Per-sample shape of one step of the bottleneck output `[C, ieta', iphi', 1]`.
    private let decoderInputShape: [Int]
    private var cache: [UInt64: EncodedStep] = [:]
    private var clock: UInt64 = 0

    /// `model` must be the network of `input.options.spec()` (the structure above is what makes
    /// the stepwise evaluation exact).
    init(model: GraphModel<Float>, input: HCALModelInput) throws {
        let spec = model.spec, steps = input.options.steps
        let mismatch = HCALError("the model is not the network of its HCAL options (model.json and hcal.json disagree)")
        guard spec == (try input.options.spec()), let bottleneckSpec = spec.blocks.first(where: { $0.name == "bottleneck" }),
              let bottleneck = model.block(named: "bottleneck"), let decoder = model.block(named: "decoder"),
              let bottom = model.summary.shapes["bottleneck"], bottom.last == steps else { throw mismatch }
        var stepBlocks: [(block: Sequential<Float>, width: Int)] = []
        for name in bottleneckSpec.inputs {
            guard spec.blocks.first(where: { $0.name == name })?.inputs == spec.inputs.map(\.name), let block = model.block(named: name),
                  let shape = model.summary.shapes[name], shape.count == 2, shape[0] == steps else { throw mismatch }
            stepBlocks.append((block, shape[1]))
        }
        model.setTraining(false)
        self.input = input
        self.stepBlocks = stepBlocks
        self.bottleneck = bottleneck
        self.decoder = decoder
        features = stepBlocks.reduce(0) { $0 + $1.width }
        decoderInputShape = Array(bottom.dropLast()) + [1]
    }

    /// The reconstructions (scaled, `[decoded.count, 64, 72, depths]`, inactive channels 0) of the
    /// steps `decoded` of each scaled window `[T, 64, 72, depths]`.
    func reconstruct(_ windows: [[Float]], steps decoded: Range<Int>) throws -> [[Float]] {
        guard !windows.isEmpty else { return [] }
        let channels = input.channels, steps = input.options.steps, sides = input.sides
        guard !decoded.isEmpty, decoded.lowerBound >= 0, decoded.upperBound <= steps else {
            throw HCALError("steps \(decoded) to reconstruct are not within the window's \(steps)")
        }
        for (index, window) in windows.enumerated() where window.count != steps * channels {
            throw HCALError("window \(index) has \(window.count) values, the model takes \(steps) × \(channels)")
        }
        clock += 1
        let slots = try encodedSteps(windows)

        // Bottleneck input [N·sides, T, features]: each window's step features one row per step.
        let samples = windows.count * sides
        var sequence = [Float](repeating: 0, count: samples * steps * features)
        sequence.withUnsafeMutableBufferPointer { target in
            for window in windows.indices {
                for step in 0..<steps {
                    slots[window * steps + step].features.withUnsafeBufferPointer { source in
                        for side in 0..<sides {
                            let row = ((window * sides + side) * steps + step) * features
                            for feature in 0..<features { target[row + feature] = source[side * features + feature] }
                        }
                    }
                }
            }
        }
        // Bottleneck output [N·sides, C, ieta', iphi', T]; the decoder takes one step per sample,
        // ordered (window, decoded step, side) so that each reconstructed step's sides are adjacent.
        let bottom = try bottleneck(Variable(try Tensor(shape: [samples, steps, features], scalars: sequence))).value.scalars
        let perStep = decoderInputShape.reduce(1, *)
        var selected = [Float](repeating: 0, count: samples * decoded.count * perStep)
        selected.withUnsafeMutableBufferPointer { target in
            bottom.withUnsafeBufferPointer { source in
                for window in windows.indices {
                    for (position, step) in decoded.enumerated() {
                        for side in 0..<sides {
                            let row = ((window * decoded.count + position) * sides + side) * perStep
                            let sample = (window * sides + side) * perStep
                            for value in 0..<perStep { target[row + value] = source[(sample + value) * steps + step] }
                        }
                    }
                }
            }
        }
        let outputs = try decoder(Variable(try Tensor(shape: [samples * decoded.count] + decoderInputShape, scalars: selected))).value.scalars

        let perReconstructedStep = outputs.count / (windows.count * decoded.count)
        return windows.indices.map { index in
            var reconstruction = [Float](repeating: 0, count: decoded.count * channels)
            outputs.withUnsafeBufferPointer { source in
                reconstruction.withUnsafeMutableBufferPointer { target in
                    for (position, step) in decoded.enumerated() {
                        let block = index * decoded.count + position
                        input.reconstruction(UnsafeBufferPointer(rebasing: source[(block * perReconstructedStep)..<((block + 1) * perReconstructedStep)]),
                                             ringMeans: slots[index * steps + step].ringMeans,
                                             into: UnsafeMutableBufferPointer(rebasing: target[(position * channels)..<((position + 1) * channels)]))
                    }
                }
            }
            return reconstruction
        }
    }

    /// The encoded step of every (window, step), from the cache or encoded now in one batch (a
    /// step repeated within the call is encoded once).
    private func encodedSteps(_ windows: [[Float]]) throws -> [EncodedStep] {
        let channels = input.channels, steps = input.options.steps
        var slots: [EncodedStep?] = Array(repeating: nil, count: windows.count * steps)
        // Steps to encode: (window, step) of their first occurrence, and the slots waiting for each.
        var fresh: [(window: Int, step: Int, key: UInt64)] = [], waiting: [[Int]] = [], freshByKey: [UInt64: Int] = [:]
        for (windowIndex, window) in windows.enumerated() {
            window.withUnsafeBufferPointer { buffer in
                for step in 0..<steps {
                    let map = UnsafeBufferPointer(rebasing: buffer[(step * channels)..<((step + 1) * channels)])
                    let key = Self.contentHash(map)
                    let slot = windowIndex * steps + step
                    if var entry = cache[key], Self.equal(entry.map, map) {
                        entry.lastUse = clock
                        cache[key] = entry
                        slots[slot] = entry
                    } else if let index = freshByKey[key], windows[fresh[index].window].withUnsafeBufferPointer({ first in
                        Self.equal(UnsafeBufferPointer(rebasing: first[(fresh[index].step * channels)..<((fresh[index].step + 1) * channels)]), map)
                    }) {
                        waiting[index].append(slot)
                    } else {
                        if freshByKey[key] == nil { freshByKey[key] = fresh.count }
                        fresh.append((windowIndex, step, key))
                        waiting.append([slot])
                    }
                }
            }
        }
        guard !fresh.isEmpty else { return try Self.filled(slots) }

        // Encoder input [M·sides, 1, ieta, 72, Dp]: each fresh step's samples after one another.
        let perStep = input.sides * input.stepSampleSize
        var samples = [Float](repeating: 0, count: fresh.count * perStep)
        var means: [[Float]] = []
        samples.withUnsafeMutableBufferPointer { target in
            for (index, item) in fresh.enumerated() {
                windows[item.window].withUnsafeBufferPointer { buffer in
                    let map = UnsafeBufferPointer(rebasing: buffer[(item.step * channels)..<((item.step + 1) * channels)])
                    let ring = input.ringMeans(map)
                    means.append(ring)
                    input.networkSamples(map, ringMeans: ring, into: UnsafeMutableBufferPointer(rebasing: target[(index * perStep)..<((index + 1) * perStep)]))
                }
            }
        }
        let stepInput = Variable(try Tensor(shape: [fresh.count * input.sides] + input.options.stepInputShape, scalars: samples))
        let encoded = try stepBlocks.map { try $0.block(stepInput).value.scalars }
        let sides = input.sides
        for (index, item) in fresh.enumerated() {
            let start = item.step * channels
            // Per side, the step blocks' outputs side by side (the bottleneck's concatenation).
            var features: [Float] = []
            features.reserveCapacity(sides * self.features)
            for side in 0..<sides {
                for (blockOutput, block) in zip(encoded, stepBlocks) {
                    let sample = index * sides + side
                    features += blockOutput[(sample * block.width)..<((sample + 1) * block.width)]
                }
            }
            let entry = EncodedStep(map: Array(windows[item.window][start..<(start + channels)]), features: features,
                                    ringMeans: means[index], lastUse: clock)
            for slot in waiting[index] { slots[slot] = entry }
            cache[item.key] = entry
        }
        while cache.count > Self.cacheCapacity, let oldest = cache.min(by: { $0.value.lastUse < $1.value.lastUse })?.key { cache[oldest] = nil }
        return try Self.filled(slots)
    }

    /// The slots, every one of which the lookup above filled (a gap would misalign windows and steps).
    private static func filled(_ slots: [EncodedStep?]) throws -> [EncodedStep] {
        let filled = slots.compactMap { $0 }
        guard filled.count == slots.count else { throw HCALError("\(slots.count - filled.count) window steps were not encoded") }
        return filled
    }

    /// A 64-bit hash of the map's bits: four independent multiply-xor lanes over 64-bit words.
    static func contentHash(_ map: UnsafeBufferPointer<Float>) -> UInt64 {
        let bytes = UnsafeRawBufferPointer(map)
        let words = bytes.count / 8
        var lanes: (UInt64, UInt64, UInt64, UInt64) = (0x9E37_79B9_7F4A_7C15, 0xC2B2_AE3D_27D4_EB4F, 0x1656_67B1_9E37_79F9, 0x85EB_CA77_C2B2_AE63)
        @inline(__always) func mix(_ lane: UInt64, _ word: UInt64) -> UInt64 {
            let value = (lane ^ word) &* 0xFF51_AFD7_ED55_8CCD
            return value ^ (value >> 32)
        }
        var index = 0
        while index + 4 <= words {
            lanes.0 = mix(lanes.0, bytes.loadUnaligned(fromByteOffset: index * 8, as: UInt64.self))
            lanes.1 = mix(lanes.1, bytes.loadUnaligned(fromByteOffset: (index + 1) * 8, as: UInt64.self))
            lanes.2 = mix(lanes.2, bytes.loadUnaligned(fromByteOffset: (index + 2) * 8, as: UInt64.self))
            lanes.3 = mix(lanes.3, bytes.loadUnaligned(fromByteOffset: (index + 3) * 8, as: UInt64.self))
            index += 4
        }
        var hash = mix(mix(mix(lanes.0, lanes.1), lanes.2), lanes.3)
        for offset in stride(from: index * 8, to: bytes.count, by: 4) {
            hash = mix(hash, UInt64(bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
        }
        return mix(hash, UInt64(bytes.count))
    }

    /// Bitwise equality of two maps (the cache's confirmation of a hash match).
    static func equal(_ stored: [Float], _ map: UnsafeBufferPointer<Float>) -> Bool {
        stored.withUnsafeBufferPointer { equal($0, map) }
    }

    static func equal(_ a: UnsafeBufferPointer<Float>, _ b: UnsafeBufferPointer<Float>) -> Bool {
        guard a.count == b.count else { return false }
        guard let first = a.baseAddress, let second = b.baseAddress else { return true }
        return memcmp(first, second, a.count * MemoryLayout<Float>.stride) == 0
    }
}
