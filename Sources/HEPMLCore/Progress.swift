import Foundation

/// Reports progress of long work: a redrawn bar with rate and ETA when standard error is a
/// terminal, and plain, throttled log lines otherwise (CI logs, pipes).
public final class ProgressReporter: @unchecked Sendable {
    public let label: String
    public let total: Int
    private let unit: String
    private let isTerminal: Bool
    private let start = Date()
    private var completed = 0
    private var lastDraw = Date.distantPast
    /// The count shown by the last line, so that `finish()` does not repeat a final line.
    private var lastShown = -1
    private var suffix = ""
    private let lock = NSLock()
    private let quiet: Bool

    /// `quiet` silences all output (library use, tests).
    public init(_ label: String, total: Int, unit: String = "it", quiet: Bool = false) {
        self.label = label
        self.total = max(0, total)
        self.unit = unit
        self.quiet = quiet
        self.isTerminal = isatty(STDERR_FILENO) == 1 && ProcessInfo.processInfo.environment["TERM"] != "dumb"
    }

    /// Text shown after the counts, e.g. the current loss.
    public func setSuffix(_ text: String) {
        lock.lock()
        suffix = text
        lock.unlock()
    }

    public func advance(by count: Int = 1) {
        lock.lock()
        completed += count
        let now = Date()
        let interval = isTerminal ? 0.1 : 10.0
        let due = now.timeIntervalSince(lastDraw) >= interval || completed >= total
        if due {
            lastDraw = now
            lastShown = completed
        }
        let line = due ? render(now: now) : nil
        lock.unlock()
        if let line, !quiet { emit(line, final: false) }
    }

    public func finish() {
        lock.lock()
        let repeatsLastLine = lastShown == completed && !isTerminal
        let line = render(now: Date())
        lock.unlock()
        if !quiet && !repeatsLastLine { emit(line, final: true) }
    }

    private func render(now: Date) -> String {
        let elapsed = now.timeIntervalSince(start)
        let rate = elapsed > 0 ? Double(completed) / elapsed : 0
        let remaining = rate > 0 ? Double(max(0, total - completed)) / rate : 0
        let fraction = total > 0 ? min(1, Double(completed) / Double(total)) : 1
        let counts = "\(completed)/\(total) \(unit) \(String(format: "%.1f", rate)) \(unit)/s ETA \(Self.formatDuration(remaining))"
        let tail = suffix.isEmpty ? "" : " \(suffix)"
        if isTerminal {
            let width = 28
            let filled = Int(fraction * Double(width))
            let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
            return "\(label) |\(bar)| \(String(format: "%3.0f%%", fraction * 100)) \(counts)\(tail)"
        }
        return "\(label): \(String(format: "%.0f%%", fraction * 100)) \(counts)\(tail)"
    }

    private func emit(_ line: String, final: Bool) {
        let text = isTerminal ? "\r\u{1B}[2K\(line)\(final ? "\n" : "")" : "\(line)\n"
        FileHandle.standardError.write(Data(text.utf8))
    }

    public static func formatDuration(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "--:--" }
        let total = Int(seconds.rounded())
        if total >= 3600 { return String(format: "%d:%02d:%02d", total / 3600, (total / 60) % 60, total % 60) }
        return String(format: "%02d:%02d", total / 60, total % 60)
    }
}
