/// Matrix products through BLAS: `matmul` for [m,k]·[k,n] and `linear` for the fused
/// y = x·Wᵀ + b of a dense layer (PyTorch weight layout [out, in]), which needs no transposed copy
/// because GEMM takes the transpose flag.
extension Variable {
    @_specialize(where T == Float)
    public static func matmul(_ a: Variable, _ b: Variable) throws -> Variable {
        guard a.value.rank == 2, b.value.rank == 2, a.shape[1] == b.shape[0] else {
            throw ShapeError(operation: "matmul", "expected [m, k]·[k, n]", shapes: [a.shape, b.shape])
        }
        let m = a.shape[0], k = a.shape[1], n = b.shape[1]
        let out = Tensor<T>(validShape: [m, n], scalars: product(a.value.scalars, b.value.scalars, m: m, n: n, k: k, false, false))
        return Variable(out, operation: "matmul", inputs: [a, b]) { g in
            if a.requiresGrad {  // dA = G·Bᵀ
                a.accumulate(Tensor(validShape: a.shape, scalars: product(g.scalars, b.value.scalars, m: m, n: k, k: n, false, true)))
            }
            if b.requiresGrad {  // dB = Aᵀ·G
                b.accumulate(Tensor(validShape: b.shape, scalars: product(a.value.scalars, g.scalars, m: k, n: n, k: m, true, false)))
            }
        }
    }

    /// y = x·Wᵀ + b for x [..., in], weight [out, in], bias [out].
    @_specialize(where T == Float)
    public static func linear(_ x: Variable, weight: Variable, bias: Variable?) throws -> Variable {
        guard let inFeatures = x.shape.last, weight.value.rank == 2, weight.shape[1] == inFeatures else {
            throw ShapeError(operation: "linear", "input features must equal weight columns", shapes: [x.shape, weight.shape])
        }
        let outFeatures = weight.shape[0]
        if let bias, bias.shape != [outFeatures] {
            throw ShapeError(operation: "linear", "bias must be [out]", shapes: [bias.shape, weight.shape])
        }
        let rows = x.value.count / max(inFeatures, 1)
        var scalars = product(x.value.scalars, weight.value.scalars, m: rows, n: outFeatures, k: inFeatures, false, true)
        if let bias { addRowVector(&scalars, bias.value.scalars) }
        var outShape = x.shape
        outShape[outShape.count - 1] = outFeatures
        let inputs = [x, weight] + (bias.map { [$0] } ?? [])
        return Variable(Tensor(validShape: outShape, scalars: scalars), operation: "linear", inputs: inputs) { g in
            if x.requiresGrad {  // dX = G·W
                x.accumulate(Tensor(validShape: x.shape, scalars: product(g.scalars, weight.value.scalars, m: rows, n: inFeatures, k: outFeatures, false, false)))
            }
            if weight.requiresGrad {  // dW = Gᵀ·X
                weight.accumulate(Tensor(validShape: weight.shape, scalars: product(g.scalars, x.value.scalars, m: outFeatures, n: inFeatures, k: rows, true, false)))
            }
            if let bias, bias.requiresGrad {
                bias.accumulate(Broadcasting.reduce(g, to: bias.shape))
            }
        }
    }

    @_specialize(where T == Float)
    static func product(_ a: [T], _ b: [T], m: Int, n: Int, k: Int, _ transposeA: Bool, _ transposeB: Bool) -> [T] {
        [T](unsafeUninitializedCapacity: m * n) { c, initialized in
            a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in
                    Kernels.gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                                 pa.baseAddress.unsafelyUnwrapped, pb.baseAddress.unsafelyUnwrapped, c.baseAddress.unsafelyUnwrapped)
                }
            }
            initialized = m * n
        }
    }

    @_specialize(where T == Float)
    static func addRowVector(_ matrix: inout [T], _ row: [T]) {
        let n = row.count
        guard n > 0 else { return }
        matrix.withUnsafeMutableBufferPointer { m in
            row.withUnsafeBufferPointer { r in
                let shift = r.baseAddress.unsafelyUnwrapped
                var target = m.baseAddress.unsafelyUnwrapped
                for _ in 0..<(m.count / n) {
                    for j in 0..<n { target[j] += shift[j] }
                    target += n
                }
            }
        }
    }
}
