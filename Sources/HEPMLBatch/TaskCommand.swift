import Foundation

/// Placeholders in a task command: `{task}` (0 to N-1), `{N}` (the task count), in a sweep
/// `{run_dir}` (the point's own run directory) and `{<parameter>}` for every grid parameter.
/// Only `{identifier}` is a placeholder, so JSON or shell braces elsewhere stay as they are.
public enum TaskCommand {
    /// Every `{identifier}` in `argument`: its range (braces included) and name.
    static func matches(in argument: String) -> [(range: Range<String.Index>, name: String)] {
        var found: [(range: Range<String.Index>, name: String)] = []
        var index = argument.startIndex
        while let open = argument[index...].firstIndex(of: "{") {
            let nameStart = argument.index(after: open)
            let nameEnd = argument[nameStart...].firstIndex { !($0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_")) } ?? argument.endIndex
            let name = argument[nameStart..<nameEnd]
            if nameEnd < argument.endIndex, argument[nameEnd] == "}", let first = name.first, !first.isNumber {
                let close = argument.index(after: nameEnd)
                found.append((range: open..<close, name: String(name)))
                index = close
            } else {
                index = nameStart
            }
        }
        return found
    }

    /// The placeholder names in `arguments`, in order of appearance.
    public static func placeholders(in arguments: [String]) -> [String] {
        arguments.flatMap { matches(in: $0).map { $0.name } }
    }

    /// Refuses a command whose tasks could not differ or that names an unknown placeholder:
    /// an array of more than one task must use `{task}`, a sweep every one of its parameters.
    public static func validate(_ arguments: [String], parameters: [String], sweep: Bool) throws {
        let used = Set(placeholders(in: arguments))
        let known = Set(["task", "N"] + (sweep ? ["run_dir"] + parameters : []))
        let unknown = used.subtracting(known).sorted()
        guard unknown.isEmpty else {
            throw BatchError("unknown placeholder\(unknown.count == 1 ? "" : "s") \(unknown.map { "{\($0)}" }.joined(separator: ", ")) in the command; "
                + "known: \(known.sorted().map { "{\($0)}" }.joined(separator: ", "))")
        }
        if sweep {
            let unused = parameters.filter { !used.contains($0) }.sorted()
            guard unused.isEmpty else {
                throw BatchError("the command does not use the grid parameter\(unused.count == 1 ? "" : "s") \(unused.map { "{\($0)}" }.joined(separator: ", "))")
            }
        } else if !used.contains("task") {
            throw BatchError("the command does not use {task}, so every task would do the same work (e.g. add --shard {task}/{N})")
        }
    }

    /// `arguments` with every `{name}` of `values` replaced.
    public static func substitute(_ arguments: [String], values: [String: String]) -> [String] {
        arguments.map { argument in
            var result = ""
            var rest = argument.startIndex
            for (range, name) in matches(in: argument) {
                result += argument[rest..<range.lowerBound]
                result += values[name] ?? String(argument[range])
                rest = range.upperBound
            }
            return result + argument[rest...]
        }
    }
}
