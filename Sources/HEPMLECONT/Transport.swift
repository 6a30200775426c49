/// Exact solver of the balanced transportation problem
/// `min Σ f_ij c_ij  s.t.  Σ_j f_ij = a_i, Σ_i f_ij = b_j, f ≥ 0`
/// by successive shortest augmenting paths (Dijkstra on reduced costs with node potentials).
///
/// Why this algorithm: the problems are tiny (at most 48 × 48) and usually sparse, so a dense
/// O(V²) Dijkstra per augmentation, stopped at the first sink still missing mass, beats the
/// bookkeeping of a network simplex; it is exact up to floating-point rounding, like POT's
/// `emd2`. Only nodes with positive mass take part.
///
/// A workspace is reused across problems to avoid allocation; one per thread.
public struct TransportSolver {
    private var sourceMass: [Double] = []
    private var sinkMass: [Double] = []
    private var cost: [Double] = []
    private var flow: [Double] = []
    private var potential: [Double] = []
    private var distance: [Double] = []
    private var predecessor: [Int] = []
    private var settled: [Bool] = []

    /// Masses below this are treated as already transported (rounding dust of unit-sum inputs).
    public static let massTolerance = 1e-13

    public init() {}

    /// The optimal cost for `supply` (length m) and `demand` (length n) with the row-major
    /// m × n `costs`. Entries ≤ 0 are ignored; masses should have equal sums (any mismatch
    /// below `massTolerance` is left untransported).
    public mutating func minimumCost(supply: UnsafeBufferPointer<Double>, demand: UnsafeBufferPointer<Double>,
                                     costs: UnsafeBufferPointer<Double>, costStride: Int) -> Double {
        let sources = supply.indices.filter { supply[$0] > 0 }
        let sinks = demand.indices.filter { demand[$0] > 0 }
        let m = sources.count, n = sinks.count
        guard m > 0, n > 0 else { return 0 }
        sourceMass = sources.map { supply[$0] }
        sinkMass = sinks.map { demand[$0] }
        cost = [Double](repeating: 0, count: m * n)
        for (row, i) in sources.enumerated() {
            for (column, j) in sinks.enumerated() { cost[row * n + column] = costs[i * costStride + j] }
        }
        flow = [Double](repeating: 0, count: m * n)
        let nodes = m + n
        potential = [Double](repeating: 0, count: nodes)
        distance = [Double](repeating: 0, count: nodes)
        predecessor = [Int](repeating: -1, count: nodes)
        settled = [Bool](repeating: false, count: nodes)
        return solve(m, n)
    }

    private mutating func solve(_ m: Int, _ n: Int) -> Double {
        let nodes = m + n
        // Every augmentation empties a source, fills a sink or cancels a flow; the bound only
        // guards against a rounding pathology, never reached in practice.
        let augmentationLimit = 64 * nodes * nodes
        var augmentations = 0
        while augmentations < augmentationLimit {
            guard sourceMass.contains(where: { $0 > Self.massTolerance }),
                  sinkMass.contains(where: { $0 > Self.massTolerance }) else { break }
            guard let target = shortestPathToDeficitSink(m, n) else { break }
            augment(to: target, m, n)
            augmentations += 1
        }
        var total = 0.0
        for index in 0..<(m * n) where flow[index] > 0 { total += flow[index] * cost[index] }
        return total
    }

    /// Multi-source Dijkstra from every source with mass left; returns the first sink with
    /// demand left and updates the potentials so that reduced costs stay non-negative.
    private mutating func shortestPathToDeficitSink(_ m: Int, _ n: Int) -> Int? {
        let nodes = m + n
        for node in 0..<nodes {
            settled[node] = false
            predecessor[node] = -1
            distance[node] = node < m && sourceMass[node] > Self.massTolerance ? 0 : .infinity
        }
        var target: Int?
        var targetDistance = 0.0
        while true {
            var best = -1
            var bestDistance = Double.infinity
            for node in 0..<nodes where !settled[node] && distance[node] < bestDistance {
                best = node
                bestDistance = distance[node]
            }
            guard best >= 0 else { break }
            settled[best] = true
            if best >= m, sinkMass[best - m] > Self.massTolerance {
                target = best
                targetDistance = bestDistance
                break
            }
            if best < m {
                let i = best
                for j in 0..<n where !settled[m + j] {
                    let reduced = max(0, cost[i * n + j] + potential[i] - potential[m + j])
                    let candidate = bestDistance + reduced
                    if candidate < distance[m + j] {
                        distance[m + j] = candidate
                        predecessor[m + j] = i
                    }
                }
            } else {
                let j = best - m
                for i in 0..<m where !settled[i] && flow[i * n + j] > 0 {
                    let reduced = max(0, -cost[i * n + j] - potential[i] + potential[m + j])
                    let candidate = bestDistance + reduced
                    if candidate < distance[i] {
                        distance[i] = candidate
                        predecessor[i] = best
                    }
                }
            }
        }
        guard let target else { return nil }
        for node in 0..<nodes { potential[node] += min(distance[node], targetDistance) }
        return target
    }

    /// Pushes the bottleneck amount along the predecessor path ending at `target`, and sets the
    /// limiting quantity to exactly zero so that every augmentation makes discrete progress.
    private mutating func augment(to target: Int, _ m: Int, _ n: Int) {
        var amount = sinkMass[target - m]
        var node = target
        var start = target
        while predecessor[node] >= 0 {
            let previous = predecessor[node]
            if node < m {  // reverse edge sink(previous) → source(node) cancels flow
                amount = min(amount, flow[node * n + (previous - m)])
            }
            node = previous
            start = previous
        }
        amount = min(amount, sourceMass[start])

        node = target
        while predecessor[node] >= 0 {
            let previous = predecessor[node]
            if node >= m {
                flow[previous * n + (node - m)] += amount
            } else {
                let index = node * n + (previous - m)
                flow[index] = max(0, flow[index] - amount)
            }
            node = previous
        }
        sourceMass[start] = max(0, sourceMass[start] - amount)
        sinkMass[target - m] = max(0, sinkMass[target - m] - amount)
    }
}
