import HEPMLNN
import HEPMLTensor

/// Recurrent layers as ONNX's RNN, GRU and LSTM operators, one per stacked layer.
extension ONNXExporter {
    /// The engine keeps PyTorch's gate blocks, LSTM (i, f, g, o) and GRU (r, z, n); ONNX wants
    /// LSTM (i, o, f, c) and GRU (z, r, h), and GRU with `linear_before_reset` = 1, PyTorch's
    /// n = tanh(W_in x + b_in + r·(W_hn h + b_hn)). ONNX sequences are time-major, so the
    /// batch-first input is transposed once and the output transposed back.
    ///
    /// With `options.statefulRecurrent` the graph takes the initial states as inputs
    /// "<path>.h_in" (and "<path>.c_in" for LSTM) of shape (layers, N, hidden) and gives the final
    /// states as outputs "<path>.h_out" (and "<path>.c_out"); zeros reproduce the engine.
    mutating func emitRecurrent(_ recurrent: Recurrent<Float>, path: String, _ x: String) -> String {
        let hidden = recurrent.hiddenSize
        let (op, blockOrder): (String, [Int]) = switch recurrent.cell {
        case .rnn: ("RNN", [0])
        case .lstm: ("LSTM", [0, 3, 1, 2])
        case .gru: ("GRU", [1, 0, 2])
        }
        let hasCell = recurrent.cell == .lstm
        // weight_ih_l<k>, weight_hh_l<k>, bias_ih_l<k>, bias_hh_l<k> for each layer k.
        let parameters = recurrent.localParameters.map(\.1)
        let layerCount = parameters.count / 4
        var attributes = [ONNXAttribute("hidden_size", .int(Int64(hidden)))]
        if recurrent.cell == .gru { attributes.append(ONNXAttribute("linear_before_reset", .int(1))) }

        func reordered(_ variable: Variable<Float>) -> [Float] {
            let scalars = variable.value.scalars
            let blockSize = scalars.count / blockOrder.count
            return blockOrder.flatMap { block in scalars[(block * blockSize)..<((block + 1) * blockSize)] }
        }

        let stateShape: [ONNXDimension] = [.fixed(Int64(layerCount)), .symbolic("N"), .fixed(Int64(hidden))]
        var initialHidden: String?, initialCell: String?
        if options.statefulRecurrent {
            initialHidden = graph.input(Self.join(path, "h_in"), shape: stateShape)
            if hasCell { initialCell = graph.input(Self.join(path, "c_in"), shape: stateShape) }
        }
        var sequence = graph.transpose(x, permutation: [1, 0, 2])
        var finalHidden: [String] = [], finalCell: [String] = []
        for layer in 0..<layerCount {
            let (weightIH, weightHH, biasIH, biasHH) = (parameters[4 * layer], parameters[4 * layer + 1], parameters[4 * layer + 2], parameters[4 * layer + 3])
            let rows = weightIH.shape[0]
            let layerPath = Self.join(path, "l\(layer)")
            var inputs = [sequence,
                          graph.constant(reordered(weightIH), dimensions: [1, rows, weightIH.shape[1]], name: Self.join(layerPath, "W")),
                          graph.constant(reordered(weightHH), dimensions: [1, rows, hidden], name: Self.join(layerPath, "R")),
                          graph.constant(reordered(biasIH) + reordered(biasHH), dimensions: [1, 2 * rows], name: Self.join(layerPath, "B"))]
            if let initialHidden {
                inputs += ["", graph.slice(initialHidden, starts: [layer], ends: [layer + 1], axes: [0])]
                if let initialCell { inputs.append(graph.slice(initialCell, starts: [layer], ends: [layer + 1], axes: [0])) }
            }
            let outputs = graph.node(op, inputs, attributes: attributes, outputs: hasCell ? 3 : 2)
            sequence = graph.squeeze(outputs[0], axes: [1])  // (T, 1, N, H) → (T, N, H)
            finalHidden.append(outputs[1])
            if hasCell { finalCell.append(outputs[2]) }
        }
        if options.statefulRecurrent {
            stateOutputs.append((Self.join(path, "h_out"), graph.concat(finalHidden, axis: 0), stateShape))
            if hasCell { stateOutputs.append((Self.join(path, "c_out"), graph.concat(finalCell, axis: 0), stateShape)) }
        }
        if recurrent.returnSequences { return graph.transpose(sequence, permutation: [1, 0, 2]) }
        // The last step of the last layer is its final state (1, N, H).
        return graph.squeeze(finalHidden.last ?? sequence, axes: [0])
    }
}
