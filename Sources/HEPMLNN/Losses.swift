import HEPMLTensor

/// Loss functions, each one fused operation with its own backward. Reconstruction losses take
/// optional per-element `weights` (a 0/1 mask selects active channels) broadcastable to the
/// prediction; the result is Σ w·e / Σ w, so a mask gives the mean over the active elements.
public enum Loss {
    /// Shared body of the weighted pointwise losses: value e(p, t) and derivative de/dp.
    @_specialize(where T == Float)
    static func weightedMean<T: TensorScalar>(_ name: String, _ prediction: Variable<T>, _ target: Tensor<T>, _ weights: Tensor<T>?,
                                              _ element: (T, T) -> T, _ derivative: @escaping (T, T) -> T) throws -> Variable<T> {
        guard prediction.shape == target.shape else {
            throw ShapeError(operation: name, "prediction and target shapes differ", shapes: [prediction.shape, target.shape])
        }
        let p = prediction.value.scalars, t = target.scalars
        var w: [T]? = nil
        var normalizer = T(p.count)
        if let weights {
            let expanded = try Tensor.broadcast(prediction.value, weights, operation: name) { _, w in w }
            guard expanded.shape == prediction.shape else {
                throw ShapeError(operation: name, "weights do not broadcast to the prediction", shapes: [prediction.shape, weights.shape])
            }
            w = expanded.scalars
            normalizer = expanded.scalars.reduce(0, +)
            guard normalizer > 0 else { throw ShapeError(operation: name, "weights sum to zero", shapes: [weights.shape]) }
        }
        var total: T = 0
        for i in 0..<p.count { total += (w?[i] ?? 1) * element(p[i], t[i]) }
        let scale = 1 / normalizer
        return try Variable.custom(name, inputs: [prediction], forward: { _ in Tensor(scalar: total * scale) }) { g, _, _ in
            let factor = g.scalars[0] * scale
            var dp = [T](repeating: 0, count: p.count)
            for i in 0..<p.count { dp[i] = factor * (w?[i] ?? 1) * derivative(p[i], t[i]) }
            return [try Tensor(shape: prediction.shape, scalars: dp)]
        }
    }

    @_specialize(where T == Float)
    public static func meanSquaredError<T: TensorScalar>(_ prediction: Variable<T>, _ target: Tensor<T>, weights: Tensor<T>? = nil) throws -> Variable<T> {
        try weightedMean("mse", prediction, target, weights, { ($0 - $1) * ($0 - $1) }, { 2 * ($0 - $1) })
    }

    @_specialize(where T == Float)
    public static func meanAbsoluteError<T: TensorScalar>(_ prediction: Variable<T>, _ target: Tensor<T>, weights: Tensor<T>? = nil) throws -> Variable<T> {
        try weightedMean("mae", prediction, target, weights, { abs($0 - $1) }, { $0 > $1 ? 1 : ($0 < $1 ? -1 : 0) })
    }

    /// Binary cross-entropy on logits, stable form max(x,0) − x·t + log(1 + e^−|x|).
    @_specialize(where T == Float)
    public static func binaryCrossEntropy<T: TensorScalar>(logits: Variable<T>, _ target: Tensor<T>, weights: Tensor<T>? = nil) throws -> Variable<T> {
        try weightedMean("bceWithLogits", logits, target, weights, { x, t in
            max(x, 0) - x * t + T.log1p(T.exponential(-abs(x)))
        }, { x, t in
            (x >= 0 ? 1 / (1 + T.exponential(-x)) : T.exponential(x) / (1 + T.exponential(x))) - t
        })
    }

    /// Categorical cross-entropy from logits [N, K] and class labels [N] (stored as numbers),
    /// averaged over the batch.
    @_specialize(where T == Float)
    public static func crossEntropy<T: TensorScalar>(logits: Variable<T>, labels: Tensor<T>) throws -> Variable<T> {
        guard logits.shape.count == 2, labels.shape == [logits.shape[0]] else {
            throw ShapeError(operation: "crossEntropy", "expected logits [N, K] and labels [N]", shapes: [logits.shape, labels.shape])
        }
        let n = logits.shape[0], k = logits.shape[1]
        var classes = [Int]()
        for label in labels.scalars {
            guard label >= 0, label < T(k), label == label.rounded() else {
                throw ShapeError(operation: "crossEntropy", "label \(label) is not a class index in 0..<\(k)", shapes: [logits.shape, labels.shape])
            }
            classes.append(Int(label))
        }
        let logProbabilities = try logits.logSoftmax()
        let picked = logProbabilities.value.scalars
        var total: T = 0
        for i in 0..<n { total -= picked[i * k + classes[i]] }
        return try Variable.custom("crossEntropy", inputs: [logProbabilities], forward: { _ in Tensor(scalar: total / T(max(n, 1))) }) { g, _, _ in
            var d = [T](repeating: 0, count: n * k)
            for i in 0..<n { d[i * k + classes[i]] = -g.scalars[0] / T(max(n, 1)) }
            return [try Tensor(shape: [n, k], scalars: d)]
        }
    }

    /// KL(q ‖ N(0, 1)) of a diagonal Gaussian latent, −½ Σ(1 + log σ² − μ² − σ²), summed over
    /// latent dimensions and averaged over the batch (the usual VAE regularizer).
    @_specialize(where T == Float)
    public static func gaussianKL<T: TensorScalar>(mean: Variable<T>, logVariance: Variable<T>) throws -> Variable<T> {
        guard mean.shape == logVariance.shape, let batch = mean.shape.first, batch > 0 else {
            throw ShapeError(operation: "gaussianKL", "mean and log-variance must share a non-empty [N, ...] shape", shapes: [mean.shape, logVariance.shape])
        }
        let mu = mean.value.scalars, logVar = logVariance.value.scalars
        var total: T = 0
        for i in 0..<mu.count { total += -(1 + logVar[i] - mu[i] * mu[i] - T.exponential(logVar[i])) / 2 }
        let scale = 1 / T(batch)
        return try Variable.custom("gaussianKL", inputs: [mean, logVariance], forward: { _ in Tensor(scalar: total * scale) }) { g, _, _ in
            let factor = g.scalars[0] * scale
            return [try Tensor(shape: mean.shape, scalars: mu.map { factor * $0 }),
                    try Tensor(shape: mean.shape, scalars: logVar.map { factor * (T.exponential($0) - 1) / 2 })]
        }
    }
}
