import Foundation

/// Everything between a NumEvents-renormalized map and the network, and back: per-channel
/// scaling, RIN, the side split and the stacked-window layout of `HCALModelOptions` — one place
/// used by training, scoring and evaluation alike.
public struct HCALModelInput: Sendable {
    public let options: HCALModelOptions
    public let mask: HCALMask
    public let offset: [Float]
    public let range: [Float]

    public init(options: HCALModelOptions, mask: HCALMask, offset: [Float], range: [Float]) throws {
        guard mask.subdetector == options.subdetector, offset.count == mask.active.count, range.count == mask.active.count else {
            throw HCALError("model options (\(options.subdetector.rawValue)), mask (\(mask.subdetector.rawValue), \(mask.active.count) channels) and scaler (\(offset.count)) disagree")
        }
        self.options = options
        self.mask = mask
        self.offset = offset
        self.range = range
    }

    public var channels: Int { mask.active.count }
    public var depths: Int { mask.depthCount }
    /// Samples per window: 2 with the side split, else 1.
    public var sides: Int { options.etaSlots.count }
    public var sampleSize: Int { options.inputShape.reduce(1, *) }
    /// Values of one network sample of a single step (`HCALModelOptions.stepInputShape`).
    public var stepSampleSize: Int { options.stepInputShape.reduce(1, *) }

    /// Scales one renormalized map in place ((x − offset) / range; inactive channels and NaN → 0).
    public func scale(_ map: UnsafeMutableBufferPointer<Float>) {
        for channel in 0..<channels {
            let value = map[channel]
            map[channel] = mask.active[channel] && value.isFinite ? (value - offset[channel]) / range[channel] : 0
        }
    }

    /// RIN divisors of a scaled window `[T, 64, 72, depths]`: per step, ieta slot and depth, the
    /// mean of the non-zero channels along iphi (1 when there are none). Double sums, as upstream.
    public func ringMeans(_ window: UnsafeBufferPointer<Float>) -> [Float] {
        let steps = window.count / channels
        guard options.reversibleNormalization else { return [Float](repeating: 1, count: steps * HCALIndex.etaCount * depths) }
        var means = [Float](repeating: 1, count: steps * HCALIndex.etaCount * depths)
        for step in 0..<steps {
            for eta in 0..<HCALIndex.etaCount {
                for depth in 0..<depths {
                    var sum = 0.0, count = 0
                    for phi in 0..<HCALIndex.phiCount {
                        let value = window[step * channels + HCALIndex.flat(eta: eta, phi: phi, depth: depth, depths: depths)]
                        if value != 0 { sum += Double(value); count += 1 }
                    }
                    let mean = count > 0 ? sum / Double(count) : 0
                    means[(step * HCALIndex.etaCount + eta) * depths + depth] = mean != 0 ? Float(mean) : 1
                }
            }
        }
        return means
    }

    /// Calls `body(sample, window, ring, channel)` for every map channel of every one of `steps`
    /// steps: its index in the network samples of that many steps (all sides after one another),
    /// in the window `[steps, 64, 72, depths]`, in the ring means, and its channel `[64, 72, depths]`.
    @inline(__always)
    func forEachPosition(steps: Int, _ body: (_ sample: Int, _ window: Int, _ ring: Int, _ channel: Int) -> Void) {
        let padded = options.paddedDepths
        let rowLength = HCALIndex.phiCount * steps * padded
        let etaSlots = options.etaSlots
        let sampleSize = etaSlots[0].count * rowLength
        for (side, etas) in etaSlots.enumerated() {
            for (row, eta) in etas.enumerated() {
                for phi in 0..<HCALIndex.phiCount {
                    let base = side * sampleSize + row * rowLength + phi * steps * padded
                    for step in 0..<steps {
                        for depth in 0..<depths {
                            let channel = HCALIndex.flat(eta: eta, phi: phi, depth: depth, depths: depths)
                            body(base + step * padded + depth, step * channels + channel, (step * HCALIndex.etaCount + eta) * depths + depth, channel)
                        }
                    }
                }
            }
        }
    }

    /// The network samples (`sides` of them) of a scaled window of any number of steps (T for
    /// the network, 1 for its per-step encoder), divided by the ring means; padded depth slots are 0.
    public func networkSamples(_ window: UnsafeBufferPointer<Float>, ringMeans means: [Float], into samples: UnsafeMutableBufferPointer<Float>) {
        for index in 0..<samples.count { samples[index] = 0 }
        forEachPosition(steps: window.count / channels) { sample, position, ring, _ in samples[sample] = window[position] / means[ring] }
    }

    /// Network samples of many scaled windows (`sides` per window) and each window's ring means.
    public func networkBatch(_ windows: [[Float]]) -> (samples: [Float], ringMeans: [[Float]]) {
        let perWindow = sides * sampleSize
        var samples = [Float](repeating: 0, count: windows.count * perWindow)
        var means: [[Float]] = []
        samples.withUnsafeMutableBufferPointer { target in
            for (index, window) in windows.enumerated() {
                window.withUnsafeBufferPointer { source in
                    let ring = ringMeans(source)
                    means.append(ring)
                    networkSamples(source, ringMeans: ring, into: UnsafeMutableBufferPointer(rebasing: target[(index * perWindow)..<((index + 1) * perWindow)]))
                }
            }
        }
        return (samples, means)
    }

    /// The reconstructed scaled window (as many steps as `window` holds) from the network's
    /// outputs: sides merged back, ring means multiplied back, inactive channels 0.
    public func reconstruction(_ outputs: UnsafeBufferPointer<Float>, ringMeans means: [Float], into window: UnsafeMutableBufferPointer<Float>) {
        for index in 0..<window.count { window[index] = 0 }
        forEachPosition(steps: window.count / channels) { sample, position, ring, channel in
            if mask.active[channel] { window[position] = outputs[sample] * means[ring] }
        }
    }

    /// The loss weights of one network sample `[1, ieta, 72, T·Dp]`: 1 on active channels. The
    /// two sides share one mask (the geometry and emap masks are symmetric in ±ieta).
    public func sampleMask() throws -> [Float] {
        var weights = [Float](repeating: 0, count: sides * sampleSize)
        forEachPosition(steps: options.steps) { sample, _, _, channel in if mask.active[channel] { weights[sample] = 1 } }
        let first = Array(weights[0..<sampleSize])
        guard (0..<sides).allSatisfy({ Array(weights[($0 * sampleSize)..<(($0 + 1) * sampleSize)]) == first }) else {
            throw HCALError("the side split needs a mask symmetric in ±ieta; this one is not (train without the side split)")
        }
        return first
    }
}
