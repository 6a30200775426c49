import HEPMLNN
import HEPMLTensor

/// Message passing over a fixed graph as dense products with the normalized adjacency.
extension ONNXExporter {
    /// x' = W_neigh·(Â x) + b (+ W_root·x): the aggregation Σ_edges w·x[source] → target is the
    /// product with the (V, V) matrix Â[target, source] = Σ w, a constant; MatMul broadcasts it
    /// over the batch of node features (N, V, F).
    mutating func emitGraphConvolution(_ convolution: GraphConvolution<Float>, path: String, _ input: Value) throws -> String {
        let adjacency = convolution.adjacency
        let nodes = adjacency.nodeCount
        var dense = [Float](repeating: 0, count: nodes * nodes)
        for edge in adjacency.weights.indices {
            dense[adjacency.targets[edge] * nodes + adjacency.sources[edge]] += Float(adjacency.weights[edge])
        }
        let matrix = graph.constant(dense, dimensions: [nodes, nodes], name: Self.join(path, "adjacency"))
        let aggregated = Value(name: graph.matMul(matrix, input.name), sample: try input.sample.aggregate(over: adjacency))
        let messages = try emit(convolution.neighbour, path: Self.join(path, "neighbour"), aggregated)
        guard let root = convolution.root else { return messages.name }
        return graph.add(messages.name, try emit(root, path: Self.join(path, "root"), input).name)
    }

    /// α = softmax over nodes of the scores (N, V, 1); output Σ_v α_v x_v (N, F).
    mutating func emitAttentionPooling(_ pooling: AttentionPooling<Float>, path: String, _ input: Value) throws -> String {
        let scores = try emit(pooling.score, path: Self.join(path, "score"), input)
        let weights = graph.softmax(scores.name, axis: 1)
        return graph.reduceSum(graph.mul(weights, input.name), axes: [1], keepDimensions: false)
    }
}
