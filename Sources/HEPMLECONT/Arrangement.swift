/// The number of trigger cells (TCs) of one ECON-T module; CALQ columns 0…47.
public let triggerCellCount = 48

/// How the 48 CALQ-ordered charges of a module are laid out as a network input image.
///
/// The network sees an image whose flat pixel `p` (in the layout's own order) holds the charge of
/// TC `source[p]`, or zero where `inputMask[p]` is false (padding, or a duplicate of a neighbour
/// that the layout does not want). Decoding goes the other way through `inverse`: TC `i` is read
/// from pixel `inverse[i]`, which lets losses and metrics ignore the padding pixels.
public struct Arrangement: Sendable, Equatable {
    public let name: String
    /// Image shape (height, width, channels), channels last as the network sees it.
    public let shape: [Int]
    /// CALQ index read by each flat pixel.
    public let source: [Int]
    /// Pixels that carry a charge; masked pixels are zero in the input image.
    public let inputMask: [Bool]
    /// For each TC, the pixel it is read back from.
    public let inverse: [Int]

    public var pixelCount: Int { source.count }

    /// Builds a layout and derives its inverse the way Ecoder's `invertArrange` does: TC `i` maps
    /// to the last pixel that reads it, is unmasked, and is selected by `readbackMask`.
    /// Returns nil when some TC is never read back.
    public init?(name: String, shape: [Int], source: [Int], inputMask: [Bool]? = nil, readbackMask: [Bool]? = nil) {
        let count = source.count
        guard shape.reduce(1, *) == count, source.allSatisfy({ (0..<triggerCellCount).contains($0) }) else { return nil }
        let input = inputMask ?? Array(repeating: true, count: count)
        let readback = readbackMask ?? input
        guard input.count == count, readback.count == count else { return nil }
        var inverse = Array(repeating: -1, count: triggerCellCount)
        for pixel in 0..<count where input[pixel] && readback[pixel] {
            inverse[source[pixel]] = pixel
        }
        guard !inverse.contains(-1) else { return nil }
        self.name = name
        self.shape = shape
        self.source = source
        self.inputMask = input
        self.inverse = inverse
    }

    /// Arranges `rows` CALQ-ordered modules (`rows × 48`, row-major) into images (`rows × pixelCount`).
    public func arrange(_ charges: [Double], rows: Int) -> [Float] {
        var image = [Float](repeating: 0, count: rows * pixelCount)
        let pixels = pixelCount
        charges.withUnsafeBufferPointer { input in
            image.withUnsafeMutableBufferPointer { output in
                for row in 0..<rows {
                    let inBase = row * triggerCellCount, outBase = row * pixels
                    for pixel in 0..<pixels where inputMask[pixel] {
                        output[outBase + pixel] = Float(input[inBase + source[pixel]])
                    }
                }
            }
        }
        return image
    }

    /// Maps images (`rows × pixelCount`) back to CALQ order (`rows × 48`).
    public func calQ(fromImages images: [Float], rows: Int) -> [Double] {
        var charges = [Double](repeating: 0, count: rows * triggerCellCount)
        let pixels = pixelCount
        images.withUnsafeBufferPointer { input in
            charges.withUnsafeMutableBufferPointer { output in
                for row in 0..<rows {
                    let inBase = row * pixels, outBase = row * triggerCellCount
                    for cell in 0..<triggerCellCount {
                        output[outBase + cell] = Double(input[inBase + inverse[cell]])
                    }
                }
            }
        }
        return charges
    }
}

extension Arrangement {
    /// The default 8×8 image: three 4×4 TC blocks, lower-right quadrant masked (Ecoder `arrange_dict['8x8']`).
    public static let eightByEight: Arrangement = {
        let source = [28, 29, 30, 31, 0, 4, 8, 12,
                      24, 25, 26, 27, 1, 5, 9, 13,
                      20, 21, 22, 23, 2, 6, 10, 14,
                      16, 17, 18, 19, 3, 7, 11, 15,
                      47, 43, 39, 35, 35, 34, 33, 32,
                      46, 42, 38, 34, 39, 38, 37, 36,
                      45, 41, 37, 33, 43, 42, 41, 40,
                      44, 40, 36, 32, 47, 46, 45, 44]
        let mask = Array(repeating: true, count: 32) + (0..<4).flatMap { _ in [true, true, true, true, false, false, false, false] }
        return make("8x8", [8, 8, 1], source, mask, mask)
    }()

    /// The three 4×4 blocks as channels of a 4×4×3 image.
    public static let fourByFourByThree: Arrangement = {
        let source = (0..<48).map { flat in flat / 3 + 16 * (flat % 3) }
        return make("4x4x3", [4, 4, 3], source, nil, nil)
    }()

    /// Three 6×6 blocks, each with a padding row/column and its neighbours' edge TCs, stored
    /// block after block as upstream does (its Keras model reshapes that buffer to 6×6×3).
    public static let sixBySixByThree: Arrangement = make("6x6x3", [6, 6, 3], sixBySixSource, sixBySixInputMask, sixBySixReadbackMask)

    /// The 6×6×3 layout transposed so that the block index is the last (channel) axis.
    public static let sixBySixByThreeTransposed: Arrangement = {
        func transposed<T>(_ values: [T]) -> [T] { (0..<108).map { flat in values[(flat % 3) * 36 + flat / 3] } }
        return make("6x6x3_tp", [6, 6, 3], transposed(sixBySixSource), transposed(sixBySixInputMask), transposed(sixBySixReadbackMask))
    }()

    public static let all: [Arrangement] = [eightByEight, fourByFourByThree, sixBySixByThree, sixBySixByThreeTransposed]

    public static func named(_ name: String) -> Arrangement? { all.first { $0.name == name } }

    private static let sixBySixSource: [Int] = [
        0, 0, 0, 0, 0, 0, 0, 12, 13, 14, 15, 32, 0, 8, 9, 10, 11, 33, 0, 4, 5, 6, 7, 34, 0, 0, 1, 2, 3, 35, 0, 31, 27, 23, 19, 0,
        0, 0, 0, 0, 0, 0, 0, 28, 29, 30, 31, 0, 0, 24, 25, 26, 27, 1, 0, 20, 21, 22, 23, 2, 0, 16, 17, 18, 19, 3, 0, 47, 43, 39, 35, 0,
        0, 0, 0, 0, 0, 0, 0, 44, 45, 46, 47, 16, 0, 40, 41, 42, 43, 17, 0, 36, 37, 38, 39, 18, 0, 32, 33, 34, 35, 19, 0, 15, 11, 7, 3, 0,
    ]
    private static let sixBySixInputMask: [Bool] = {
        let block = [0, 0, 0, 0, 0, 0] + (0..<4).flatMap { _ in [0, 1, 1, 1, 1, 1] } + [0, 1, 1, 1, 1, 0]
        return (0..<3).flatMap { _ in block.map { $0 == 1 } }
    }()
    private static let sixBySixReadbackMask: [Bool] = {
        let block = [0, 0, 0, 0, 0, 0] + (0..<4).flatMap { _ in [0, 1, 1, 1, 1, 0] } + [0, 0, 0, 0, 0, 0]
        return (0..<3).flatMap { _ in block.map { $0 == 1 } }
    }()

    /// The tables above are fixed data checked by the unit tests, so a failure here is a typo in them.
    private static func make(_ name: String, _ shape: [Int], _ source: [Int], _ input: [Bool]?, _ readback: [Bool]?) -> Arrangement {
        guard let arrangement = Arrangement(name: name, shape: shape, source: source, inputMask: input, readbackMask: readback) else {
            preconditionFailure("inconsistent built-in arrangement table \(name)")
        }
        return arrangement
    }
}
