import HEPMLCompression
import HEPMLCore

/// How the bytes of one column are laid out inside a branch's baskets (spec §7.7).
enum ColumnLayout: Equatable {
    /// Fixed-size records: scalars, fixed arrays, or one field of a leaf list.
    case fixed(ElementType, perEntry: Int, recordSize: Int, fieldOffset: Int)
    /// Counter-jagged `x[n]` (each item is `itemSize` elements).
    case jagged(ElementType, itemSize: Int)
    /// `T* x //[n]` members of split objects: a 1-byte flag, then the elements.
    case pointerArray(ElementType)
    /// TLeafC strings and TString members: one TString per entry.
    case string
    /// `std::string`: 6-byte header, then a TString.
    case stdString
    /// `std::vector<T>`: 10-byte header, count, elements.
    case vector(ElementType)
    case vectorOfStrings
    case vectorOfVectors(ElementType)

    var typeName: String {
        switch self {
        case .fixed(let type, let perEntry, _, _): return perEntry == 1 ? type.rawValue : "\(type.rawValue)[\(perEntry)]"
        case .jagged(let type, let itemSize): return itemSize == 1 ? "var * \(type.rawValue)" : "var * \(itemSize) * \(type.rawValue)"
        case .pointerArray(let type): return "var * \(type.rawValue)"
        case .string, .stdString: return "string"
        case .vector(let type): return "var * \(type.rawValue)"
        case .vectorOfStrings: return "var * string"
        case .vectorOfVectors(let type): return "var * var * \(type.rawValue)"
        }
    }

    var isJagged: Bool {
        switch self {
        case .fixed, .string, .stdString: return false
        default: return true
        }
    }
}

/// A column of a tree: which branch it comes from and how to decode it.
struct ColumnPlan {
    var name: String
    var branch: Branch
    var layout: ColumnLayout
    var itemShape: [Int]
    /// The counter leaf's branch, for jagged columns whose baskets carry no offsets.
    var counterBranch: Branch?
}

/// A branch's description for listings.
public struct BranchSummary: Sendable {
    /// The name to pass back to `arrays`, `table` or `--branches` (`Tree.displayName`).
    public var name: String
    /// Awkward-style type (`int32`, `float32[10]`, `var * float64`, `string`), or `unsupported`.
    public var typeName: String
    public var isJagged: Bool
    /// Why the branch cannot be read (nil when it can).
    public var unsupportedReason: String?
    public var compressedBytes: Int
    public var uncompressedBytes: Int

    public var isSupported: Bool { unsupportedReason == nil }
}

/// A data branch that a read of all branches left out, and why.
public struct LeftOutBranch: Sendable, Equatable, CustomStringConvertible {
    public var branch: String
    public var reason: String

    public var description: String { "\(branch): \(reason)" }
}

extension Tree {
    /// Name, type and sizes of every data branch; unsupported ones carry the reason.
    public func branchSummaries() -> [BranchSummary] {
        dataBranches.map { branch in
            do {
                let plans = try columnPlans(for: branch)
                let typeName = plans.count == 1 ? plans[0].layout.typeName
                    : "{" + plans.map { "\($0.name.split(separator: ".").last ?? ""): \($0.layout.typeName)" }.joined(separator: ", ") + "}"
                return BranchSummary(name: displayName(of: branch), typeName: typeName, isJagged: plans.contains { $0.layout.isJagged },
                                     unsupportedReason: nil, compressedBytes: branch.zippedBytes, uncompressedBytes: branch.totalBytes)
            } catch {
                return BranchSummary(name: displayName(of: branch), typeName: "unsupported", isJagged: false,
                                     unsupportedReason: Self.reason(error), compressedBytes: branch.zippedBytes, uncompressedBytes: branch.totalBytes)
            }
        }
    }

    /// The data branches that `arrays()` and `table()` without a branch list leave out, and why.
    public var unsupportedBranches: [LeftOutBranch] {
        branchSummaries().compactMap { summary in summary.unsupportedReason.map { LeftOutBranch(branch: summary.name, reason: $0) } }
    }

    static func reason(_ error: Error) -> String {
        let reason = (error as? FileFormatError)?.reason ?? "\(error)"
        return reason.hasPrefix("unsupported branch: ") ? String(reason.dropFirst("unsupported branch: ".count)) : reason
    }

    /// The declared type of a split-class member branch, from the file's StreamerInfo (nil when
    /// the file does not describe the class or the member index is out of range).
    private func memberTypeName(of branch: Branch) throws -> String? {
        guard branch.elementID >= 0, let info = try file.streamerInfo(named: branch.streamedClassName),
              branch.elementID < info.elements.count else { return nil }
        return info.elements[branch.elementID].typeName
    }

    private func findCounterBranch(_ leaf: Leaf) -> Branch? {
        allBranches.first { branch in branch.leaves.contains { $0 === leaf } }
    }

    /// A member of a split TClonesArray or STL collection of objects (`fMCHits.fEneDep`): one value,
    /// or one fixed array, per object, so a jagged column over the objects of each entry, counted
    /// by the collection's branch.
    private func collectionMemberPlan(_ branch: Branch, leaf: Leaf) throws -> ColumnPlan {
        let code = leaf.elementTypeCode
        let isFixedArray = code > 20 && code < 40
        guard let type = ElementType(streamerCode: isFixedArray ? code - 20 : code) else {
            throw FileFormatError(file: file.path, object: "\(path)/\(branch.name)",
                                  reason: "unsupported branch: member of streamer type \(code) in a split collection of \(branch.streamedClassName) "
                                      + "(numbers and fixed arrays of numbers are read)")
        }
        let count = max(1, leaf.length)
        return ColumnPlan(name: displayName(of: branch), branch: branch, layout: .jagged(type, itemSize: count), itemShape: isFixedArray ? [count] : [],
                          counterBranch: leaf.counter.flatMap(findCounterBranch))
    }

    /// Works out the columns of one branch from its leaves and class (never from titles).
    func columnPlans(for branch: Branch) throws -> [ColumnPlan] {
        func unsupported(_ what: String) -> FileFormatError {
            FileFormatError(file: file.path, object: "\(path)/\(branch.name)", reason: "unsupported branch: \(what)")
        }
        guard let leaf = branch.leaves.first else { throw unsupported("no leaves") }
        if branch.className == "TBranchElement" || branch.className == "TBranchObject" {
            let cls = branch.streamedClassName.replacingOccurrences(of: "std::", with: "")
            if branch.elementType == 3 || branch.elementType == 4 {
                // A split TClonesArray or STL collection of objects: its own data is the number of
                // objects per entry (the counter of its members), one Int_t each.
                return [ColumnPlan(name: displayName(of: branch), branch: branch, layout: .fixed(.int32, perEntry: 1, recordSize: 4, fieldOffset: 0), itemShape: [])]
            }
            if branch.elementType == 31 || branch.elementType == 41 {
                return [try collectionMemberPlan(branch, leaf: leaf)]
            }
            if branch.streamerType == -1 || (branch.branches.isEmpty && (cls.hasPrefix("vector<") || cls == "string")) {
                // A top-level TString or std::string holds bare TStrings; a std::string member of a
                // split class carries a byte count and version first (uproot's string_header).
                if cls == "TString" { return [ColumnPlan(name: displayName(of: branch), branch: branch, layout: .string, itemShape: [])] }
                if cls == "string" {
                    let isTopLevel = branches.contains { $0 === branch }
                    return [ColumnPlan(name: displayName(of: branch), branch: branch, layout: isTopLevel ? .string : .stdString, itemShape: [])]
                }
                if let layout = ColumnLayout(stlClass: cls) {
                    return [ColumnPlan(name: displayName(of: branch), branch: branch, layout: layout, itemShape: [])]
                }
                throw unsupported(branch.branches.isEmpty ? "unsplit object of class \(branch.streamedClassName) (objects are read only when split)"
                                                           : "class \(branch.streamedClassName)")
            }
            let code = leaf.elementTypeCode
            if let type = ElementType(streamerCode: code) {
                let count = max(1, leaf.length)
                return [ColumnPlan(name: displayName(of: branch), branch: branch, layout: .fixed(type, perEntry: count, recordSize: count * type.size, fieldOffset: 0),
                                   itemShape: count == 1 ? [] : [count])]
            }
            if code > 20, code < 40, let type = ElementType(streamerCode: code - 20) {
                let count = max(1, leaf.length)
                return [ColumnPlan(name: displayName(of: branch), branch: branch, layout: .fixed(type, perEntry: count, recordSize: count * type.size, fieldOffset: 0),
                                   itemShape: [count])]
            }
            if code > 40, code < 60, let type = ElementType(streamerCode: code - 40) {
                return [ColumnPlan(name: displayName(of: branch), branch: branch, layout: .pointerArray(type), itemShape: [],
                                   counterBranch: leaf.counter.flatMap(findCounterBranch))]
            }
            if code == 65 { return [ColumnPlan(name: displayName(of: branch), branch: branch, layout: .string, itemShape: [])] }
            if code == 365 { return [ColumnPlan(name: displayName(of: branch), branch: branch, layout: .stdString, itemShape: [])] }
            if code == 300 || code == 500 {
                // An STL member of a split class: its C++ type is only in the class's TStreamerInfo.
                let memberType = (try memberTypeName(of: branch) ?? leaf.title).replacingOccurrences(of: "std::", with: "")
                if memberType.replacingOccurrences(of: " ", with: "") == "string" {
                    return [ColumnPlan(name: displayName(of: branch), branch: branch, layout: .stdString, itemShape: [])]
                }
                if let layout = ColumnLayout(stlClass: memberType) {
                    return [ColumnPlan(name: displayName(of: branch), branch: branch, layout: layout, itemShape: [])]
                }
                throw unsupported("member type \(memberType) of class \(branch.streamedClassName)")
            }
            throw unsupported("streamer type \(code) of class \(branch.streamedClassName)")
        }
        if branch.leaves.count == 1 {
            if leaf.className == "TLeafC" { return [ColumnPlan(name: displayName(of: branch), branch: branch, layout: .string, itemShape: [])] }
            guard let type = ElementType(leafClass: leaf.className, isUnsigned: leaf.isUnsigned) else {
                throw unsupported("leaf class \(leaf.className)")
            }
            let count = max(1, leaf.length)
            if let counter = leaf.counter {
                return [ColumnPlan(name: displayName(of: branch), branch: branch, layout: .jagged(type, itemSize: count),
                                   itemShape: count == 1 ? [] : [count], counterBranch: findCounterBranch(counter))]
            }
            return [ColumnPlan(name: displayName(of: branch), branch: branch, layout: .fixed(type, perEntry: count, recordSize: count * type.size, fieldOffset: 0),
                               itemShape: count == 1 ? [] : [count])]
        }
        // A leaf list: fixed records whose fields follow each other without padding.
        var fields: [(Leaf, ElementType)] = []
        for part in branch.leaves {
            guard part.counter == nil, let type = ElementType(leafClass: part.className, isUnsigned: part.isUnsigned) else {
                throw unsupported("leaf list member \(part.name) (\(part.className))")
            }
            fields.append((part, type))
        }
        let recordSize = fields.reduce(0) { $0 + max(1, $1.0.length) * $1.1.size }
        var offset = 0
        return fields.map { part, type in
            let count = max(1, part.length)
            defer { offset += count * type.size }
            return ColumnPlan(name: "\(displayName(of: branch)).\(part.name)", branch: branch,
                              layout: .fixed(type, perEntry: count, recordSize: recordSize, fieldOffset: offset),
                              itemShape: count == 1 ? [] : [count])
        }
    }

    /// Reads columns for the branches that `names` select (`branches(matching:)`: full paths, unique
    /// names, wildcards), or for all supported data branches when nil, over an entry range (all
    /// entries when nil). Baskets are read and decompressed in parallel.
    public func arrays(branches names: [String]? = nil, entries range: Range<Int>? = nil) throws -> [ColumnArray] {
        let entryRange = (range ?? 0..<entries).clamped(to: 0..<entries)
        var plans: [ColumnPlan] = []
        if let names {
            for branch in try branches(matching: names) { plans += try columnPlans(for: branch) }
        } else {
            for branch in dataBranches {
                if let branchPlans = try? columnPlans(for: branch) { plans += branchPlans }
            }
        }
        return try read(plans, entries: entryRange)
    }

    /// Fixed-size columns are decoded straight from each decompressed basket into their final
    /// array (each basket buffer is released as soon as it is decoded, so memory is touched once);
    /// other layouts go through per-basket pieces because their sizes are known only after reading.
    func read(_ plans: [ColumnPlan], entries entryRange: Range<Int>) throws -> [ColumnArray] {
        let fixed = plans.indices.filter { if case .fixed = plans[$0].layout { return true } else { return false } }
        let others = plans.indices.filter { !fixed.contains($0) }
        // Many columns: one worker per column; few columns: the workers share each column's baskets.
        let columnsInParallel = fixed.count >= 2 * Parallel.threadCount
        let fixedColumns = try Parallel.map(fixed.count, workers: columnsInParallel ? Parallel.threadCount : 1) { index in
            try self.readFixed(plans[fixed[index]], entries: entryRange, workers: columnsInParallel ? 1 : Parallel.threadCount)
        }
        let otherColumns = try readPieces(others.map { plans[$0] }, entries: entryRange)
        var columns = [ColumnArray?](repeating: nil, count: plans.count)
        for (index, column) in zip(fixed, fixedColumns) { columns[index] = column }
        for (index, column) in zip(others, otherColumns) { columns[index] = column }
        return columns.compactMap { $0 }
    }

    /// The baskets (index and entry range) that hold `entryRange`; they must tile it, so that
    /// every output element is written exactly once.
    private func basketsCovering(_ entryRange: Range<Int>, of branch: Branch) throws -> [(basket: Int, range: Range<Int>)] {
        var tasks: [(basket: Int, range: Range<Int>)] = []
        var covered = entryRange.lowerBound
        for (basket, range) in try branch.basketRanges(file: file.path, tree: path).enumerated() where range.overlaps(entryRange) {
            let wanted = range.clamped(to: entryRange)
            guard wanted.lowerBound == covered else {
                throw FileFormatError(file: file.path, object: "\(path)/\(branch.name)", reason: "baskets leave entries \(covered)..<\(wanted.lowerBound) uncovered")
            }
            covered = wanted.upperBound
            tasks.append((basket, range))
        }
        guard entryRange.isEmpty || covered == entryRange.upperBound else {
            throw FileFormatError(file: file.path, object: "\(path)/\(branch.name)", reason: "baskets end at entry \(covered), \(entryRange.upperBound) expected")
        }
        return tasks
    }

    private func readFixed(_ plan: ColumnPlan, entries entryRange: Range<Int>, workers: Int) throws -> ColumnArray {
        guard case .fixed(let type, let perEntry, let recordSize, let fieldOffset) = plan.layout else {
            throw FileFormatError(file: file.path, object: "\(path)/\(plan.branch.name)", reason: "not a fixed-size column")
        }
        let object = "\(path)/\(plan.branch.name)"
        let filePath = file.path
        @Sendable func fail(_ reason: String) -> FileFormatError { FileFormatError(file: filePath, object: object, reason: reason) }
        let allTasks = try basketsCovering(entryRange, of: plan.branch)
        let fieldBytes = perEntry * type.size
        let count = entryRange.count * perEntry
        func fill(_ destination: UnsafeMutableRawPointer) throws {
            // Workers write disjoint element ranges of the one output buffer; the address crosses
            // into the worker closures as an integer.
            let address = Int(bitPattern: destination)
            _ = try Parallel.map(allTasks.count, workers: workers) { index in
                let (basketIndex, range) = allTasks[index]
                let wanted = range.clamped(to: entryRange)
                // The common case, a whole on-disk basket of packed values with no offset table:
                // decompress straight into the output and swap the bytes there.
                var record: BasketRecord?
                if wanted == range, fieldBytes == recordSize, basketIndex < plan.branch.basketSeek.count {
                    let onDisk = try self.readBasketRecord(plan.branch, index: basketIndex)
                    record = onDisk
                    let byteCount = wanted.count * fieldBytes
                    if onDisk.header.entryCount == wanted.count, onDisk.border == byteCount, onDisk.key.objectLength == byteCount {
                        guard let start = UnsafeMutableRawPointer(bitPattern: address) else { return }
                        let target = UnsafeMutableRawBufferPointer(start: start + (wanted.lowerBound - entryRange.lowerBound) * fieldBytes,
                                                                   count: byteCount)
                        if onDisk.key.isCompressed {
                            try BlockDecompressor.decompress(onDisk.stored, into: target, file: filePath, object: onDisk.object,
                                                             fileOffset: onDisk.seek + onDisk.key.keyLength)
                        } else {
                            onDisk.stored.withUnsafeBytes { target.copyMemory(from: $0) }
                        }
                        if let base = target.baseAddress {
                            BigEndian.decode(UnsafeRawPointer(base), recordSize: recordSize, itemsPerRecord: perEntry, records: wanted.count,
                                             type: type, into: base)
                        }
                        return
                    }
                }
                let basket = try record.map { try self.loadBasket($0, holding: range) }
                    ?? self.loadBasket(plan.branch, index: basketIndex, holding: range)
                let first = wanted.lowerBound - range.lowerBound, end = wanted.upperBound - range.lowerBound
                guard end <= basket.entryCount, end * recordSize <= basket.data.count else {
                    throw fail("basket \(basketIndex) holds \(basket.data.count) bytes, \(end * recordSize) needed for \(end) entries")
                }
                // Stored offsets of fixed-size entries must be exactly one record apart (an fBits
                // entry with a process-id slot, or a misread layout, is not).
                if let offsets = basket.offsets, let entry = (first...end).first(where: { offsets[$0] != $0 * recordSize }) {
                    throw fail("entry \(range.lowerBound + entry) of basket \(basketIndex) starts at byte \(offsets[entry]), not \(entry * recordSize): its entries are not \(recordSize) bytes each")
                }
                basket.data.withUnsafeBytes { raw in
                    guard let source = raw.baseAddress, let destination = UnsafeMutableRawPointer(bitPattern: address) else { return }
                    BigEndian.decode(source + first * recordSize + fieldOffset, recordSize: recordSize, itemsPerRecord: perEntry,
                                     records: wanted.count, type: type,
                                     into: destination + (wanted.lowerBound - entryRange.lowerBound) * fieldBytes)
                }
            }
        }
        func make<T>(_: T.Type) throws -> [T] {
            try [T](unsafeUninitializedCapacity: count) { buffer, initialized in
                if let base = buffer.baseAddress { try fill(UnsafeMutableRawPointer(base)) }
                initialized = count
            }
        }
        let values: ColumnValues
        switch type {
        case .bool: values = .bool(try make(Bool.self))
        case .int8: values = .int8(try make(Int8.self))
        case .uint8: values = .uint8(try make(UInt8.self))
        case .int16: values = .int16(try make(Int16.self))
        case .uint16: values = .uint16(try make(UInt16.self))
        case .int32: values = .int32(try make(Int32.self))
        case .uint32: values = .uint32(try make(UInt32.self))
        case .int64: values = .int64(try make(Int64.self))
        case .uint64: values = .uint64(try make(UInt64.self))
        case .float32: values = .float32(try make(Float.self))
        case .float64: values = .float64(try make(Double.self))
        }
        return ColumnArray(name: plan.name, values: values, itemShape: plan.itemShape)
    }

    private func readPieces(_ plans: [ColumnPlan], entries entryRange: Range<Int>) throws -> [ColumnArray] {
        struct Task { var column: Int; var basket: Int; var range: Range<Int> }
        var tasks: [Task] = []
        for (column, plan) in plans.enumerated() {
            for (basket, range) in try basketsCovering(entryRange, of: plan.branch) {
                tasks.append(Task(column: column, basket: basket, range: range))
            }
        }
        let allTasks = tasks
        let pieces = try Parallel.map(allTasks.count) { index -> BasketPiece in
            let task = allTasks[index]
            let plan = plans[task.column]
            let basket = try self.loadBasket(plan.branch, index: task.basket, holding: task.range)
            let wanted = task.range.clamped(to: entryRange)
            let local = (wanted.lowerBound - task.range.lowerBound)..<(wanted.upperBound - task.range.lowerBound)
            var counts: [Int]?
            if basket.offsets == nil, plan.layout.needsCounts {
                guard let counter = plan.counterBranch else {
                    throw FileFormatError(file: self.file.path, object: "\(self.path)/\(plan.branch.name)",
                                          reason: "basket has no entry offsets and no counter branch")
                }
                let counterPlans = try self.columnPlans(for: counter)
                let counterColumn = try self.read(counterPlans, entries: task.range)
                counts = try (0..<counterColumn[0].values.count).map { i -> Int in
                    let value = counterColumn[0].values.double(at: i)
                    guard value.isFinite, value >= 0, value < Double(Int32.max) else {
                        throw FileFormatError(file: self.file.path, object: "\(self.path)/\(counter.name)", reason: "counter value \(value) at entry \(i) is not a count")
                    }
                    return Int(value)
                }
            }
            return try BasketPiece.decode(basket, layout: plan.layout, entries: local, counts: counts,
                                          file: self.file.path, object: "\(self.path)/\(plan.branch.name)")
        }
        var grouped = [[BasketPiece]](repeating: [], count: plans.count)
        for (task, piece) in zip(tasks, pieces) { grouped[task.column].append(piece) }
        let groups = grouped
        return try Parallel.map(plans.count) { column in
            BasketPiece.assemble(groups[column], name: plans[column].name, layout: plans[column].layout, itemShape: plans[column].itemShape)
        }
    }

    /// Reads one basket (on disk or embedded) and splits it into data and entry offsets.
    /// An on-disk basket's key, header and stored (possibly compressed) payload.
    struct BasketRecord {
        var key: Key
        var header: BasketHeader
        var bytes: [UInt8]
        var seek: Int
        var object: String

        var stored: ArraySlice<UInt8> { bytes[key.keyLength..<key.nbytes] }
        /// Data bytes before the entry-offset table.
        var border: Int { header.last - key.keyLength }
    }

    func readBasketRecord(_ branch: Branch, index: Int) throws -> BasketRecord {
        let object = "\(path)/\(branch.name) basket \(index)"
        let seek = branch.basketSeek[index]
        let size = branch.basketBytes[index]
        let bytes = try file.source.read(at: seek, count: size, object: object)
        var reader = ByteReader(bytes, file: file.path, object: object, baseOffset: seek)
        let key = try Key.read(&reader)
        let header = try BasketHeader.read(&reader)
        guard key.keyLength <= bytes.count, key.nbytes <= bytes.count, key.nbytes >= key.keyLength else {
            throw reader.error("basket key sizes (\(key.nbytes), \(key.keyLength)) do not fit the \(size) bytes recorded in the branch")
        }
        guard key.isCompressed || key.objectLength == key.nbytes - key.keyLength else {
            throw reader.error("basket payload sizes disagree")
        }
        return BasketRecord(key: key, header: header, bytes: bytes, seek: seek, object: object)
    }

    /// Reads one basket (on disk or embedded) that the branch's tables say holds `entries`, and
    /// splits it into data and entry offsets.
    func loadBasket(_ branch: Branch, index: Int, holding entries: Range<Int>) throws -> LoadedBasket {
        if index >= branch.basketSeek.count {
            let embedded = branch.embedded[index - branch.basketSeek.count]
            return LoadedBasket(data: embedded.data, offsets: embedded.offsets, entryCount: embedded.entryCount)
        }
        return try loadBasket(try readBasketRecord(branch, index: index), holding: entries)
    }

    func loadBasket(_ record: BasketRecord, holding entries: Range<Int>) throws -> LoadedBasket {
        let (key, header, object) = (record.key, record.header, record.object)
        guard header.entryCount == entries.count else {
            throw FileFormatError(file: file.path, object: object, offset: record.seek,
                                  reason: "basket fNevBuf \(header.entryCount) differs from the \(entries.count) entries the branch assigns to it")
        }
        let payload = key.isCompressed
            ? try BlockDecompressor.decompress(record.stored, uncompressedSize: key.objectLength, file: file.path, object: object,
                                               fileOffset: record.seek + key.keyLength)
            : Array(record.stored)
        let border = record.border
        guard border >= 0, border <= payload.count else {
            throw FileFormatError(file: file.path, object: object, offset: record.seek,
                                  reason: "basket fLast \(header.last) lies outside its \(payload.count)-byte payload")
        }
        var offsets: [Int]?
        if border < payload.count {
            var tail = ByteReader(payload, file: file.path, object: object, position: border)
            let count = try tail.readCount32(limit: tail.remaining / 4, what: "entry offset count")
            guard count >= header.entryCount else { throw tail.error("offset table shorter than fNevBuf") }
            offsets = try BasketHeader.entryOffsets(&tail, entryCount: header.entryCount, keyLength: key.keyLength, dataLength: border)
        }
        var data = payload
        data.removeSubrange(border...)  // drops the offset table in place, without copying the data
        return LoadedBasket(data: data, offsets: offsets, entryCount: header.entryCount)
    }
}

extension ColumnLayout {
    /// `vector<T>`, `vector<string>` and `vector<vector<T> >` class names.
    init?(stlClass: String) {
        let compact = stlClass.replacingOccurrences(of: " ", with: "")
        guard compact.hasPrefix("vector<"), compact.hasSuffix(">") else { return nil }
        let inner = String(stlClass.trimmingCharacters(in: .whitespaces).dropFirst("vector<".count).dropLast()).trimmingCharacters(in: .whitespaces)
        let innerCompact = inner.replacingOccurrences(of: " ", with: "")
        if innerCompact == "string" || innerCompact == "TString" { self = .vectorOfStrings; return }
        if innerCompact.hasPrefix("vector<"), innerCompact.hasSuffix(">") {
            let element = String(inner.dropFirst("vector<".count).dropLast()).trimmingCharacters(in: .whitespaces)
            guard let type = ElementType(cppName: element) else { return nil }
            self = .vectorOfVectors(type)
            return
        }
        guard let type = ElementType(cppName: inner) else { return nil }
        self = .vector(type)
    }

    var needsCounts: Bool {
        switch self {
        case .jagged, .pointerArray: return true
        default: return false
        }
    }
}

struct LoadedBasket {
    var data: [UInt8]
    var offsets: [Int]?
    var entryCount: Int
}
