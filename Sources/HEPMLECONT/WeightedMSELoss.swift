/// Ecoder's `weightedMSE`: per module, the mean over all image pixels (padding included, as
/// upstream) of `(t − p)² · max(t, p)`, averaged over the batch like `TelescopeLoss`.
/// Weighting by the larger charge makes errors on hit cells count more than on empty ones.
public enum WeightedMSELoss {
    /// The batch loss; when `gradient` is given, d loss / d prediction is written into it.
    public static func evaluate(truth: UnsafeBufferPointer<Float>, prediction: UnsafeBufferPointer<Float>, batch: Int,
                                sampleWeights: UnsafeBufferPointer<Float>? = nil,
                                gradient: UnsafeMutableBufferPointer<Float>? = nil) -> Double {
        guard batch > 0 else { return 0 }
        let pixels = min(truth.count, prediction.count) / batch
        var total = 0.0
        for sample in 0..<batch {
            let weight = sampleWeights.map { Double($0[sample]) } ?? 1
            let scale = 1 / Double(pixels)
            var loss = 0.0
            for pixel in sample * pixels ..< (sample + 1) * pixels {
                let t = Double(truth[pixel]), p = Double(prediction[pixel])
                let difference = p - t
                let larger = max(t, p)
                loss += difference * difference * larger
                if let gradient {
                    let derivative = p > t ? 2 * difference * p + difference * difference : 2 * difference * t
                    gradient[pixel] = Float(weight * scale * derivative / Double(batch))
                }
            }
            total += weight * scale * loss
        }
        return total / Double(batch)
    }
}
