import Foundation
import HEPMLCore

/// The RTL-verification tables Ecoder writes after predicting the validation modules: what the
/// hardware encoder is fed and must produce, as comma-separated `%.12f` rows.
public struct VerificationTables: Sendable {
    public var rows: Int
    /// Normalized network inputs (`rows × pixels`), and the same × scale × 35 (ADC units).
    public var inputImage: [Float]
    public var inputImageADC: [Float]
    /// Inputs in CALQ order and MIP_T (`rows × 48`).
    public var inputCalQ: [Double]
    /// Encoder outputs (`rows × latentWidth`).
    public var latent: [Float]
    public var latentWidth: Int
    /// Decoder outputs as images (`rows × pixels`) and in CALQ order before restoring the scale (`rows × 48`).
    public var decodedImage: [Float]
    public var decodedCalQ: [Double]

    public init(rows: Int, inputImage: [Float], inputImageADC: [Float], inputCalQ: [Double], latent: [Float], latentWidth: Int,
                decodedImage: [Float], decodedCalQ: [Double]) {
        self.rows = rows
        self.inputImage = inputImage
        self.inputImageADC = inputImageADC
        self.inputCalQ = inputCalQ
        self.latent = latent
        self.latentWidth = latentWidth
        self.decodedImage = decodedImage
        self.decodedCalQ = decodedCalQ
    }

    /// Writes the six files into `directory`, each with the first `rowLimit` modules (all when negative).
    public func write(to directory: String, rowLimit: Int) throws {
        let count = rowLimit < 0 ? rows : min(rowLimit, rows)
        let pixels = rows > 0 ? inputImage.count / rows : 0
        let tables: [(String, [Double], Int)] = [
            ("verify_input_ae.csv", inputImage.map(Double.init), pixels),
            ("verify_input_ae_abs.csv", inputImageADC.map(Double.init), pixels),
            ("verify_input_calQ.csv", inputCalQ, triggerCellCount),
            ("verify_output.csv", latent.map(Double.init), latentWidth),
            ("verify_decoded.csv", decodedImage.map(Double.init), pixels),
            ("verify_decoded_calQ.csv", decodedCalQ, triggerCellCount),
        ]
        for (name, values, columns) in tables {
            try Self.writeTable(values, columns: columns, rows: count, to: (directory as NSString).appendingPathComponent(name))
        }
    }

    /// One table of `rows × columns` values, `%.12f`, comma separated (numpy `savetxt` layout).
    public static func writeTable(_ values: [Double], columns: Int, rows: Int, to path: String) throws {
        var text = ""
        let available = columns > 0 ? min(rows, values.count / columns) : 0
        for row in 0..<available {
            for column in 0..<columns {
                if column > 0 { text += "," }
                text += String(format: "%.12f", values[row * columns + column])
            }
            text += "\n"
        }
        try AtomicFile.write(text, to: path)
    }
}
