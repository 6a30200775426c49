/// Why a metric cannot be computed from the inputs given: the caller decides whether that is a
/// failure (a report that must have the number) or a gap (a histogram without bad runs).
public enum MetricsError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Two arrays that pair up element by element (scores and labels, x and y) differ in length.
    case lengthMismatch(String, Int, Int)
    /// A ROC needs at least one positive and one negative with a finite score.
    case missingClass(positives: Int, negatives: Int)
    /// A count, probability or coverage outside its domain.
    case invalidArgument(String)

    public var description: String {
        switch self {
        case .lengthMismatch(let what, let first, let second):
            return "\(what): \(first) and \(second) elements do not pair up"
        case .missingClass(let positives, let negatives):
            return "a ROC needs both classes with finite scores; got \(positives) positives and \(negatives) negatives"
        case .invalidArgument(let reason):
            return reason
        }
    }
}
