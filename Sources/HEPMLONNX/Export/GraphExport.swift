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

    /// α = softmax over nodes of the scores (N, ..., V, 1); output Σ_v α_v x_v (N, ..., F).
    mutating func emitAttentionPooling(_ pooling: AttentionPooling<Float>, path: String, _ input: Value) throws -> String {
        let scores = try emit(pooling.score, path: Self.join(path, "score"), input)
        let nodeAxis = input.shape.count - 1
        let weights = graph.softmax(scores.name, axis: nodeAxis)
        return graph.reduceSum(graph.mul(weights, input.name), axes: [nodeAxis], keepDimensions: false)
    }

    /// The group aggregation (group sum − own value)/(n − 1) with opset-13 operators and O(V·F)
    /// work, never a V × V matrix: the node axis gets one zero node appended (Pad); a Gather
    /// lays the nodes out as groups × M slots (M = the largest group, short groups filled with
    /// the zero node); Reshape + ReduceSum give the group sums; a Gather by each node's group
    /// brings them back to the nodes; Sub and Mul by the per-node 1/(n − 1) finish it.
    mutating func emitGroupGraphConvolution(_ convolution: GroupGraphConvolution<Float>, path: String, _ input: Value) throws -> String {
        let groups = convolution.groups
        let rank = input.shape.count + 1, nodeAxis = rank - 2
        let slots = groups.members.map(\.count).max() ?? 0
        var pads = [Int64](repeating: 0, count: 2 * rank)
        pads[rank + nodeAxis] = 1
        let padded = graph.node("Pad", [input.name, graph.constant(int64: pads, dimensions: [2 * rank]), graph.constant([0], dimensions: [])])
        let table = groups.members.flatMap { members in (members + [Int](repeating: groups.nodeCount, count: slots - members.count)).map(Int64.init) }
        let laidOut = graph.node("Gather", [padded, graph.constant(int64: table, dimensions: [table.count], name: Self.join(path, "group_slots"))],
                                 attributes: [ONNXAttribute("axis", .int(Int64(nodeAxis)))])
        let leading = Array(input.shape.dropLast(2)), features = input.shape[input.shape.count - 1]
        let grouped = graph.reshape(laidOut, to: [-1] + leading + [groups.groupCount, slots, features])
        let sums = graph.reduceSum(grouped, axes: [nodeAxis + 1], keepDimensions: false)
        let groupOfNode = graph.constant(int64: groups.groupOfNode.map(Int64.init), dimensions: [groups.nodeCount], name: Self.join(path, "group_of_node"))
        let perNode = graph.node("Gather", [sums, groupOfNode], attributes: [ONNXAttribute("axis", .int(Int64(nodeAxis)))])
        let coefficients = graph.constant(groups.coefficients.map(Float.init), dimensions: [groups.nodeCount, 1], name: Self.join(path, "coefficients"))
        let aggregated = Value(name: graph.mul(graph.sub(perNode, input.name), coefficients), sample: try input.sample.aggregate(within: groups))
        return try emit(convolution.linear, path: Self.join(path, "linear"), aggregated).name
    }
}
