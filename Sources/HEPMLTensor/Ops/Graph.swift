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

/// A graph given by a group per node: every two distinct nodes of one group are joined in both
/// directions (a union of cliques, no self-loops). Large dense groups (an HCAL readout box joins a
/// few hundred channels) are stored as V group ids instead of Σ n² edges, and aggregated with
/// segment sums in O(V·F).
public struct NodeGroups: Sendable, Equatable {
    /// Group of each node, 0..<groupCount.
    public let groupOfNode: [Int]
    public let groupCount: Int
    /// The nodes of each group, ascending.
    public let members: [[Int]]
    /// DGL `GraphConv(norm="both")` weight of every edge into a node: 1/√(out-degree · in-degree)
    /// = 1/(n − 1) in a group of n; 0 for a node alone in its group (no in-edges).
    public let coefficients: [Double]

    public init(groupOfNode: [Int]) throws {
        guard let largest = groupOfNode.max(), groupOfNode.allSatisfy({ $0 >= 0 }) else {
            throw ShapeError(operation: "NodeGroups", "needs at least one node and non-negative group ids", shapes: [[groupOfNode.count]])
        }
        var members = [[Int]](repeating: [], count: largest + 1)
        for (node, group) in groupOfNode.enumerated() { members[group].append(node) }
        self.groupOfNode = groupOfNode
        groupCount = largest + 1
        self.members = members
        coefficients = groupOfNode.map { members[$0].count > 1 ? 1 / Double(members[$0].count - 1) : 0 }
    }

    public var nodeCount: Int { groupOfNode.count }
    /// Directed edges of the graph: Σ n(n − 1).
    public var edgeCount: Int { members.reduce(0) { $0 + $1.count * ($1.count - 1) } }
}

extension Variable {
    /// Aggregates node features x [..., V, F] over `groups` with DGL's "both" normalization:
    /// out[t] = Σ_{s ≠ t in t's group} x[s] / (n − 1) = (group sum − x[t]) / (n − 1). The
    /// operator is symmetric, so the backward pass applies it to the gradient.
    public func aggregate(within groups: NodeGroups) throws -> Variable {
        guard shape.count >= 2, shape[shape.count - 2] == groups.nodeCount else {
            throw ShapeError(operation: "aggregate(within:)", "expected node features [..., \(groups.nodeCount), F]", shapes: [shape])
        }
        let f = shape[shape.count - 1], v = groups.nodeCount
        let outer = shape.dropLast(2).reduce(1, *)
        let coefficients = groups.coefficients.map { T($0) }
        func propagate(_ input: [T]) -> [T] {
            var out = [T](repeating: 0, count: input.count)
            var sums = [T](repeating: 0, count: groups.groupCount * f)
            input.withUnsafeBufferPointer { x in
                out.withUnsafeMutableBufferPointer { o in
                    sums.withUnsafeMutableBufferPointer { s in
                        for sample in 0..<outer {
                            let base = sample * v * f
                            for index in 0..<s.count { s[index] = 0 }
                            for node in 0..<v {
                                let row = base + node * f, group = groups.groupOfNode[node] * f
                                for k in 0..<f { s[group + k] += x[row + k] }
                            }
                            for node in 0..<v {
                                let row = base + node * f, group = groups.groupOfNode[node] * f, c = coefficients[node]
                                for k in 0..<f { o[row + k] = c * (s[group + k] - x[row + k]) }
                            }
                        }
                    }
                }
            }
            return out
        }
        return Variable(Tensor(validShape: shape, scalars: propagate(value.scalars)), operation: "aggregate(within:)", inputs: [self]) { g in
            self.accumulate(Tensor(validShape: self.shape, scalars: propagate(g.scalars)))
        }
    }
}
