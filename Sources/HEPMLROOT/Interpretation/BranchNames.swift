import Foundation
import HEPMLCore

/// Branch names as a user passes them: uproot's full paths, unique short names and wildcards.
extension Tree {
    /// Branches that hold data of their own: those with leaves, except the parents of split
    /// objects, whose data lives in their sub-branches (a split collection's parent holds the
    /// object count per entry and is data).
    public var dataBranches: [Branch] { allBranches.filter(\.carriesData) }

    /// uproot's path of a branch: the names of its parent branches and its own, joined by `/`
    /// (`event/fMCHits/fMCHits.fEneDep`); for branches at the top of the tree just the name.
    public func fullPath(of branch: Branch) -> String { branchPaths[ObjectIdentifier(branch)] ?? branch.name }

    /// The name `arrays`, `table`, `branchSummaries` and the command line use for a branch: its
    /// own name when no other data branch shares it, else its full path, so a listed name can
    /// always be passed back.
    public func displayName(of branch: Branch) -> String {
        (shortNameCounts[branch.name] ?? 0) > 1 ? fullPath(of: branch) : branch.name
    }

    /// Names of the data branches (`displayName`), depth first.
    public var branchNames: [String] { dataBranches.map(displayName) }

    /// The data branches that `patterns` select, in the order of the patterns (a wildcard's matches
    /// in tree order) and each once. A pattern is a full
    /// path (`event/fN`), a branch name (`fN`, when only one data branch has it), or a shell
    /// wildcard (`Jet_*`, `event/fMCHits/*`) matched against names, or against full paths when it
    /// holds a `/`. Naming the parent of a split object selects its data sub-branches. A pattern
    /// that selects nothing is an error naming it.
    public func branches(matching patterns: [String]) throws -> [Branch] {
        let data = dataBranches
        var chosen = Set<ObjectIdentifier>()
        var selection: [Branch] = []
        for pattern in patterns {
            var matched: [Branch] = []
            if let branch = allBranches.first(where: { fullPath(of: $0) == pattern }) {
                matched = branch.flattened.filter(\.carriesData)
            } else {
                let named = allBranches.filter { $0.name == pattern }
                let namedData = named.filter(\.carriesData)
                if namedData.count > 1 {
                    throw FileFormatError(file: file.path, object: "\(path)/\(pattern)",
                                          reason: "several branches are named \(pattern); use one of their full paths: "
                                              + namedData.map(fullPath).joined(separator: ", "))
                }
                if let branch = namedData.first ?? named.first {
                    matched = branch.flattened.filter(\.carriesData)
                } else if pattern.contains(where: { "*?[".contains($0) }) {
                    matched = data.filter { Self.glob(pattern, matches: pattern.contains("/") ? fullPath(of: $0) : $0.name) }
                }
            }
            guard !matched.isEmpty else {
                throw FileFormatError(file: file.path, object: "\(path)/\(pattern)", reason: "no such branch")
            }
            for branch in matched where chosen.insert(ObjectIdentifier(branch)).inserted { selection.append(branch) }
        }
        return selection
    }

    private static func glob(_ pattern: String, matches name: String) -> Bool {
        fnmatch(pattern, name, 0) == 0
    }

    /// Full paths of all branches, keyed by identity (built once per tree).
    static func paths(of branches: [Branch]) -> [ObjectIdentifier: String] {
        var paths: [ObjectIdentifier: String] = [:]
        func walk(_ branch: Branch, prefix: String) {
            let path = prefix.isEmpty ? branch.name : "\(prefix)/\(branch.name)"
            paths[ObjectIdentifier(branch)] = path
            for child in branch.branches { walk(child, prefix: path) }
        }
        for branch in branches { walk(branch, prefix: "") }
        return paths
    }
}

extension Branch {
    /// Whether the branch holds data of its own (see `Tree.dataBranches`).
    public var carriesData: Bool {
        !leaves.isEmpty && (branches.isEmpty || elementType == 3 || elementType == 4)
    }
}
