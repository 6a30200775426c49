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

    /// The network samples (`sides` of them, `sampleSize` each) of a scaled window, divided by
    /// the ring means.
    public func networkSamples(_ window: UnsafeBufferPointer<Float>, ringMeans means: [Float], into samples: UnsafeMutableBufferPointer<Float>) {
        let steps = options.steps, padded = options.paddedDepths, slots = options.etaSlots
        let rowLength = HCALIndex.phiCount * steps * padded
        for (side, etas) in slots.enumerated() {
            let base = side * sampleSize
            for (row, eta) in etas.enumerated() {
                for phi in 0..<HCALIndex.phiCount {
                    let target = base + row * rowLength + phi * steps * padded
                    for step in 0..<steps {
                        for depth in 0..<padded {
                            var value: Float = 0
                            if depth < depths {
                                value = window[step * channels + HCALIndex.flat(eta: eta, phi: phi, depth: depth, depths: depths)]
                                    / means[(step * HCALIndex.etaCount + eta) * depths + depth]
                            }
                            samples[target + step * padded + depth] = value
                        }
                    }
                }
            }
        }
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

    /// The reconstructed scaled window `[T, 64, 72, depths]` from the network's outputs: sides
    /// merged back, ring means multiplied back, inactive channels 0.
    public func reconstruction(_ outputs: UnsafeBufferPointer<Float>, ringMeans means: [Float], into window: UnsafeMutableBufferPointer<Float>) {
        let steps = options.steps, padded = options.paddedDepths, slots = options.etaSlots
        let rowLength = HCALIndex.phiCount * steps * padded
        for index in 0..<window.count { window[index] = 0 }
        for (side, etas) in slots.enumerated() {
            let base = side * sampleSize
            for (row, eta) in etas.enumerated() {
                for phi in 0..<HCALIndex.phiCount {
                    let source = base + row * rowLength + phi * steps * padded
                    for step in 0..<steps {
                        for depth in 0..<depths {
                            let channel = HCALIndex.flat(eta: eta, phi: phi, depth: depth, depths: depths)
                            guard mask.active[channel] else { continue }
                            window[step * channels + channel] = outputs[source + step * padded + depth]
                                * means[(step * HCALIndex.etaCount + eta) * depths + depth]
                        }
                    }
                }
            }
        }
    }

    /// The loss weights of one network sample `[1, ieta, 72, T·Dp]`: 1 on active channels. The
    /// two sides share one mask (the geometry and emap masks are symmetric in ±ieta).
    public func sampleMask() throws -> [Float] {
        let steps = options.steps, padded = options.paddedDepths, slots = options.etaSlots
        let rowLength = HCALIndex.phiCount * steps * padded
        var weights = [[Float]](repeating: [Float](repeating: 0, count: sampleSize), count: slots.count)
        for (side, etas) in slots.enumerated() {
            for (row, eta) in etas.enumerated() {
                for phi in 0..<HCALIndex.phiCount {
                    for step in 0..<steps {
                        for depth in 0..<depths where mask.active[HCALIndex.flat(eta: eta, phi: phi, depth: depth, depths: depths)] {
                            weights[side][row * rowLength + phi * steps * padded + step * padded + depth] = 1
                        }
                    }
                }
            }
        }
        guard weights.allSatisfy({ $0 == weights[0] }) else {
            throw HCALError("the side split needs a mask symmetric in ±ieta; this one is not (train without the side split)")
        }
        return weights[0]
    }
}
