/// Trigger-cell centres of an HGCAL module on its hexagonal sensor, in CALQ order, and the
/// ground distance used by the EMD metric.
public enum HexGeometry {
    /// Raw centre coordinates (x, y) of the 48 TCs (Ecoder `utils/metrics.py hexCoords`).
    public static let rawCentres: [(x: Double, y: Double)] = [
        (0.0, 0.0), (0.0, -2.4168015), (0.0, -4.833603), (0.0, -7.2504044),
        (2.09301, -1.2083969), (2.09301, -3.6251984), (2.09301, -6.042), (2.09301, -8.458794),
        (4.18602, -2.4168015), (4.18602, -4.833603), (4.18602, -7.2504044), (4.18602, -9.667198),
        (6.27903, -3.6251984), (6.27903, -6.042), (6.27903, -8.458794), (6.27903, -10.875603),
        (-8.37204, -10.271393), (-6.27903, -9.063004), (-4.18602, -7.854599), (-2.0930138, -6.6461945),
        (-8.37204, -7.854599), (-6.27903, -6.6461945), (-4.18602, -5.4377975), (-2.0930138, -4.229393),
        (-8.37204, -5.4377975), (-6.27903, -4.229393), (-4.18602, -3.020996), (-2.0930138, -1.8125992),
        (-8.37204, -3.020996), (-6.27903, -1.8125992), (-4.18602, -0.6042023), (-2.0930138, 0.6042023),
        (4.7092705, -12.386101), (2.6162605, -11.177696), (0.5232506, -9.969299), (-1.5697594, -8.760895),
        (2.6162605, -13.594498), (0.5232506, -12.386101), (-1.5697594, -11.177696), (-3.6627693, -9.969299),
        (0.5232506, -14.802895), (-1.5697594, -13.594498), (-3.6627693, -12.386101), (-5.7557793, -11.177696),
        (-1.5697594, -16.0113), (-3.6627693, -14.802895), (-5.7557793, -13.594498), (-7.848793, -12.386101),
    ]

    /// Half the small-cell pitch: dividing by it makes the TC pitch 2.
    public static let oneHexCell = 0.5 * 2.4168015

    /// Centres in units of `oneHexCell`.
    public static let centres: [(x: Double, y: Double)] = rawCentres.map { ($0.x / oneHexCell, $0.y / oneHexCell) }

    /// Euclidean distance between normalized centres, row-major 48×48.
    public static let distances: [Double] = {
        var table = [Double](repeating: 0, count: triggerCellCount * triggerCellCount)
        for i in 0..<triggerCellCount {
            for j in 0..<triggerCellCount {
                let dx = centres[i].x - centres[j].x, dy = centres[i].y - centres[j].y
                table[i * triggerCellCount + j] = (dx * dx + dy * dy).squareRoot()
            }
        }
        return table
    }()

    /// Standard deviations of the normalized centre coordinates (used by the RMS metric).
    public static let sigma: (x: Double, y: Double) = {
        func deviation(_ values: [Double]) -> Double {
            let mean = values.reduce(0, +) / Double(values.count)
            return (values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count)).squareRoot()
        }
        return (deviation(centres.map(\.x)), deviation(centres.map(\.y)))
    }()
}
