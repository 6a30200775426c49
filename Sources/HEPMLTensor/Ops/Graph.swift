/// Message passing over a fixed graph shared by every sample of a batch.

/// A sparse, weighted adjacency: output node `target` receives `weight · x[source]` for every
/// entry. Built once per graph from an edge list.
public struct GraphAdjacency: Sendable, Equatable {
    public enum Normalization: String, Sendable, Codable {
        /// Σ over incoming neighbours.
        case sum
        /// Mean over incoming neighbours (nodes without neighbours get zero).
        case mean
        /// Kipf & Welling's D^−½ (A + I) D^−½ with self-loops, for undirected graphs.
        case symmetric
    }

    public let nodeCount: Int
    public let targets: [Int]
    public let sources: [Int]
    public let weights: [Double]

    /// `edges` are (source, target) pairs; messages flow source → target. For `.symmetric`
    /// each edge is used in both directions and self-loops are added.
    public init(nodeCount: Int, edges: [(Int, Int)], normalization: Normalization) throws {
        for (s, t) in edges where s < 0 || s >= nodeCount || t < 0 || t >= nodeCount {
            throw ShapeError(operation: "GraphAdjacency", "edge (\(s), \(t)) outside 0..<\(nodeCount)", shapes: [[nodeCount]])
        }
        var pairs = edges
        if normalization == .symmetric {
            var undirected = Set<[Int]>()
            for (s, t) in edges where s != t { undirected.insert([s, t]); undirected.insert([t, s]) }
            pairs = undirected.sorted { $0.lexicographicallyPrecedes($1) }.map { ($0[0], $0[1]) } + (0..<nodeCount).map { ($0, $0) }
        }
        var inDegree = [Double](repeating: 0, count: nodeCount)
        for (_, t) in pairs { inDegree[t] += 1 }
        self.nodeCount = nodeCount
        sources = pairs.map(\.0)
        targets = pairs.map(\.1)
        switch normalization {
        case .sum: weights = pairs.map { _ in 1 }
        case .mean: weights = pairs.map { 1 / inDegree[$0.1] }
        case .symmetric: weights = pairs.map { 1 / (inDegree[$0.0] * inDegree[$0.1]).squareRoot() }
        }
    }
}

extension Variable {
    /// Aggregates node features x [N, V, F] over `adjacency`: out[n, t] = Σ w · x[n, s].
    public func aggregate(over adjacency: GraphAdjacency) throws -> Variable {
        guard shape.count == 3, shape[1] == adjacency.nodeCount else {
            throw ShapeError(operation: "aggregate", "expected node features [N, \(adjacency.nodeCount), F]", shapes: [shape])
        }
        let n = shape[0], v = shape[1], f = shape[2]
        let weights = adjacency.weights.map { T($0) }
        func propagate(_ input: [T], from: [Int], to: [Int]) -> [T] {
            var out = [T](repeating: 0, count: input.count)
            input.withUnsafeBufferPointer { x in
                out.withUnsafeMutableBufferPointer { o in
                    for sample in 0..<n {
                        let base = sample * v * f
                        for e in 0..<weights.count {
                            let w = weights[e], s = base + from[e] * f, t = base + to[e] * f
                            for k in 0..<f { o[t + k] += w * x[s + k] }
                        }
                    }
                }
            }
            return out
        }
        let out = propagate(value.scalars, from: adjacency.sources, to: adjacency.targets)
        return Variable(Tensor(validShape: shape, scalars: out), operation: "aggregate", inputs: [self]) { g in
            // The adjoint sends each gradient back along its edge.
            self.accumulate(Tensor(validShape: self.shape, scalars: propagate(g.scalars, from: adjacency.targets, to: adjacency.sources)))
        }
    }
}
