import HEPMLCore
import HEPMLTensor

/// The recurrent cell of a `Recurrent` layer (PyTorch's gate equations).
public enum RecurrentCell: String, Sendable, Codable {
    /// h' = tanh(W_ih x + b_ih + W_hh h + b_hh)
    case rnn
    /// Gates i, f, g, o: c' = f·c + i·g, h' = o·tanh(c').
    case lstm
    /// Gates r, z, n: n = tanh(W_in x + b_in + r·(W_hn h + b_hn)), h' = (1 − z)·n + z·h.
    case gru

    var gates: Int { self == .rnn ? 1 : (self == .lstm ? 4 : 3) }
}

/// Stacked recurrent layers over inputs [N, T, F] (batch first), PyTorch's gate equations and
/// parameter names (`weight_ih_l0` [gates·H, F], `weight_hh_l0` [gates·H, H], `bias_ih_l0`,
/// `bias_hh_l0`). Output: every step [N, T, H] or the last step [N, H].
///
/// Built from the differentiable operations (linear, slice, sigmoid, tanh, products), so the
/// backward pass through time needs no code of its own. Input projections of all steps run
/// as one matrix product per layer.
public final class Recurrent<T: TensorScalar>: Module<T> {
    public typealias Cell = RecurrentCell

    public let cell: Cell
    public let inputSize: Int
    public let hiddenSize: Int
    public let returnSequences: Bool
    /// Per layer: weight_ih, weight_hh, bias_ih, bias_hh.
    private let layers: [(Variable<T>, Variable<T>, Variable<T>, Variable<T>)]

    /// Weights and biases start as U(±1/√H), PyTorch's initialization.
    public init(_ cell: Cell, inputSize: Int, hiddenSize: Int, layers: Int = 1, returnSequences: Bool = true, generator: inout SeededGenerator) {
        self.cell = cell
        self.inputSize = inputSize
        self.hiddenSize = hiddenSize
        self.returnSequences = returnSequences
        let initializer = Initializer.fanInUniform(fanIn: hiddenSize)
        let rows = cell.gates * hiddenSize
        var built: [(Variable<T>, Variable<T>, Variable<T>, Variable<T>)] = []
        for layer in 0..<max(layers, 1) {
            let width = layer == 0 ? inputSize : hiddenSize
            built.append((Variable(initializer.tensor([rows, width], generator: &generator), requiresGrad: true),
                          Variable(initializer.tensor([rows, hiddenSize], generator: &generator), requiresGrad: true),
                          Variable(initializer.tensor([rows], generator: &generator), requiresGrad: true),
                          Variable(initializer.tensor([rows], generator: &generator), requiresGrad: true)))
        }
        self.layers = built
        super.init()
    }

    public override var kind: String { cell.rawValue.uppercased() }
    public override var localParameters: [(String, Variable<T>)] {
        layers.enumerated().flatMap { index, p in
            [("weight_ih_l\(index)", p.0), ("weight_hh_l\(index)", p.1), ("bias_ih_l\(index)", p.2), ("bias_hh_l\(index)", p.3)]
        }
    }
    public override var settings: [String: String] {
        ["cell": cell.rawValue, "input": "\(inputSize)", "hidden": "\(hiddenSize)", "layers": "\(layers.count)", "returnSequences": "\(returnSequences)"]
    }

    public override func forward(_ x: Variable<T>) throws -> Variable<T> {
        guard x.shape.count == 3, x.shape[2] == inputSize, x.shape[1] > 0 else {
            throw ShapeError(operation: kind, "expected input [N, T ≥ 1, \(inputSize)]", shapes: [x.shape, layers[0].0.shape])
        }
        let batch = x.shape[0], steps = x.shape[1], h = hiddenSize
        var sequence = x
        var last = x
        for (weightIH, weightHH, biasIH, biasHH) in layers {
            let projected = try Variable.linear(sequence, weight: weightIH, bias: biasIH)  // [N, T, gates·H]
            var hidden = Variable(Tensor<T>(zeros: [batch, h]))
            var cellState = Variable(Tensor<T>(zeros: [batch, h]))
            var outputs: [Variable<T>] = []
            for t in 0..<steps {
                let input = try projected.slice(axis: 1, t..<(t + 1)).reshaped([batch, cell.gates * h])
                let recurrent = try Variable.linear(hidden, weight: weightHH, bias: biasHH)
                func gate(_ v: Variable<T>, _ i: Int) throws -> Variable<T> { try v.slice(axis: 1, (i * h)..<((i + 1) * h)) }
                switch cell {
                case .rnn:
                    hidden = try (input + recurrent).tanh()
                case .lstm:
                    let gates = try input + recurrent
                    let i = try gate(gates, 0).sigmoid(), f = try gate(gates, 1).sigmoid()
                    let g = try gate(gates, 2).tanh(), o = try gate(gates, 3).sigmoid()
                    cellState = try f * cellState + i * g
                    hidden = try o * cellState.tanh()
                case .gru:
                    let r = try (gate(input, 0) + gate(recurrent, 0)).sigmoid()
                    let z = try (gate(input, 1) + gate(recurrent, 1)).sigmoid()
                    let n = try (gate(input, 2) + r * gate(recurrent, 2)).tanh()
                    hidden = try (-z + 1) * n + z * hidden
                }
                outputs.append(try hidden.reshaped([batch, 1, h]))
            }
            sequence = try Variable.concatenate(outputs, axis: 1)
            last = hidden
        }
        return returnSequences ? sequence : last
    }
}

/// Graph convolution over a fixed edge list on node features [N, V, F].
/// `.sum`/`.mean`: x' = W_root·x + W_neigh·agg(x) + b (GraphConv); `.symmetric`: x' = Â·x·Wᵀ + b
/// with Â = D^−½(A + I)D^−½ (GCN).
public final class GraphConvolution<T: TensorScalar>: Module<T> {
    public let adjacency: GraphAdjacency
    public let normalization: GraphAdjacency.Normalization
    public let neighbour: Linear<T>
    public let root: Linear<T>?

    public init(_ inFeatures: Int, _ outFeatures: Int, nodeCount: Int, edges: [(Int, Int)], normalization: GraphAdjacency.Normalization, generator: inout SeededGenerator) throws {
        adjacency = try GraphAdjacency(nodeCount: nodeCount, edges: edges, normalization: normalization)
        self.normalization = normalization
        neighbour = Linear(inFeatures, outFeatures, generator: &generator)
        root = normalization == .symmetric ? nil : Linear(inFeatures, outFeatures, bias: false, generator: &generator)
        super.init()
    }

    public override var kind: String { "GraphConvolution" }
    public override var children: [(String, Module<T>)] { [("neighbour", neighbour)] + (root.map { [("root", $0)] } ?? []) }
    public override var settings: [String: String] { ["nodes": "\(adjacency.nodeCount)", "edges": "\(adjacency.sources.count)", "normalization": normalization.rawValue] }

    public override func forward(_ x: Variable<T>) throws -> Variable<T> {
        let messages = try call(neighbour, named: "neighbour", x.aggregate(over: adjacency))
        guard let root else { return messages }
        return try messages + call(root, named: "root", x)
    }
}

/// DGL's `GraphConv(norm="both", weight=True, bias=True)` over a `NodeGroups` graph (every two
/// nodes of a group joined): x' = W·(Σ_{s→t} x_s / √(d_out(s)·d_in(t))) + b on node features
/// [N, ..., V, F]; the leading axes (time steps) are independent graphs.
public final class GroupGraphConvolution<T: TensorScalar>: Module<T> {
    public let groups: NodeGroups
    public let linear: Linear<T>

    public init(_ inFeatures: Int, _ outFeatures: Int, groups: NodeGroups, generator: inout SeededGenerator) {
        self.groups = groups
        linear = Linear(inFeatures, outFeatures, generator: &generator)
        super.init()
    }

    public override var kind: String { "GroupGraphConvolution" }
    public override var children: [(String, Module<T>)] { [("linear", linear)] }
    public override var settings: [String: String] { ["nodes": "\(groups.nodeCount)", "groups": "\(groups.groupCount)", "edges": "\(groups.edgeCount)"] }

    public override func forward(_ x: Variable<T>) throws -> Variable<T> {
        try call(linear, named: "linear", x.aggregate(within: groups))
    }
}

/// Attention pooling over nodes (DGL's `GlobalAttentionPooling` with a gate network):
/// α = softmax_v(x_v·w + b), output Σ_v α_v x_v ([N, ..., V, F] → [N, ..., F]; the node axis is
/// the one before the features).
public final class AttentionPooling<T: TensorScalar>: Module<T> {
    public let score: Linear<T>

    public init(features: Int, generator: inout SeededGenerator) {
        score = Linear(features, 1, generator: &generator)
        super.init()
    }

    public override var kind: String { "AttentionPooling" }
    public override var children: [(String, Module<T>)] { [("score", score)] }

    public override func forward(_ x: Variable<T>) throws -> Variable<T> {
        guard x.shape.count >= 3, x.shape.last == score.inFeatures else {
            throw ShapeError(operation: kind, "expected node features [N, ..., V, \(score.inFeatures)]", shapes: [x.shape])
        }
        let weights = try call(score, named: "score", x).softmax(axis: -2)  // [N, ..., V, 1]
        return try (weights * x).sum(axis: x.shape.count - 2)
    }
}
