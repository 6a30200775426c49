import HEPMLCore

/// One branch for `ROOTWriter.writeTree`: a flat column (scalar or fixed array), a string column
/// (one TLeafC string per entry), or a counter-jagged numeric column (`offsets` set) whose
/// per-entry counts go into the branch `counter`.
public struct TreeBranchData: Sendable {
    public var column: ColumnArray
    /// Jagged columns: the name of the int32 counter branch (created when not given as a column).
    public var counter: String?

    public init(_ column: ColumnArray, counter: String? = nil) {
        self.column = column
        self.counter = counter
    }
}

extension ElementType {
    var leafClass: String {
        switch self {
        case .bool: return "TLeafO"
        case .int8, .uint8: return "TLeafB"
        case .int16, .uint16: return "TLeafS"
        case .int32, .uint32: return "TLeafI"
        case .int64, .uint64: return "TLeafL"
        case .float32: return "TLeafF"
        case .float64: return "TLeafD"
        }
    }

    /// The type letter of leaf titles (`x/F`).
    var letter: String {
        switch self {
        case .bool: return "O"
        case .int8: return "B"
        case .uint8: return "b"
        case .int16: return "S"
        case .uint16: return "s"
        case .int32: return "I"
        case .uint32: return "i"
        case .int64: return "L"
        case .uint64: return "l"
        case .float32: return "F"
        case .float64: return "D"
        }
    }

    var isUnsigned: Bool { [.uint8, .uint16, .uint32, .uint64].contains(self) }
}

extension ColumnValues {
    var elementType: ElementType? {
        switch self {
        case .bool: return .bool
        case .int8: return .int8
        case .uint8: return .uint8
        case .int16: return .int16
        case .uint16: return .uint16
        case .int32: return .int32
        case .uint32: return .uint32
        case .int64: return .int64
        case .uint64: return .uint64
        case .float32: return .float32
        case .float64: return .float64
        case .string: return nil
        }
    }

    /// Big-endian bytes of elements `range`.
    func bigEndianBytes(_ range: Range<Int>) -> [UInt8] {
        switch self {
        case .bool(let v): return v[range].map { $0 ? 1 : 0 }
        case .int8(let v): return v[range].map { UInt8(bitPattern: $0) }
        case .uint8(let v): return Array(v[range])
        case .int16(let v): return Self.bigEndianBytes(v, range) { $0 }
        case .uint16(let v): return Self.bigEndianBytes(v, range) { $0 }
        case .int32(let v): return Self.bigEndianBytes(v, range) { $0 }
        case .uint32(let v): return Self.bigEndianBytes(v, range) { $0 }
        case .int64(let v): return Self.bigEndianBytes(v, range) { $0 }
        case .uint64(let v): return Self.bigEndianBytes(v, range) { $0 }
        case .float32(let v): return Self.bigEndianBytes(v, range) { $0.bitPattern }
        case .float64(let v): return Self.bigEndianBytes(v, range) { $0.bitPattern }
        case .string: return []
        }
    }

    /// The big-endian bytes of `bits(value)` for the values in `range`, stored word by word into
    /// one allocation (baskets of millions of values are written this way).
    @inline(__always)
    private static func bigEndianBytes<Element, Bits: FixedWidthInteger>(_ values: [Element], _ range: Range<Int>, _ bits: (Element) -> Bits) -> [UInt8] {
        let size = MemoryLayout<Bits>.size
        return values.withUnsafeBufferPointer { values in
            [UInt8](unsafeUninitializedCapacity: range.count * size) { buffer, initialized in
                guard let output = UnsafeMutableRawPointer(buffer.baseAddress) else { initialized = 0; return }
                for (position, index) in range.enumerated() {
                    output.storeBytes(of: bits(values[index]).bigEndian, toByteOffset: position * size, as: Bits.self)
                }
                initialized = range.count * size
            }
        }
    }
}

extension ROOTWriter {
    private struct PlannedBranch: Sendable {
        var name: String
        /// The element type; nil for a string branch (TLeafC).
        var type: ElementType?
        var perEntry: Int  // fixed array length (1 for scalars)
        var offsets: [Int]?  // jagged: entry offsets in items
        var counter: String?
        var values: ColumnValues
        var basketBytes: [Int] = []
        var basketEntry: [Int] = []
        var basketSeek: [Int] = []
        var totalBytes = 0
        var zippedBytes = 0
        var maximum = 0

        var leafClass: String { type?.leafClass ?? "TLeafC" }
        var letter: String { type?.letter ?? "C" }
        /// Bytes per element (fLenType): 1 for the characters of a TLeafC.
        var elementSize: Int { type?.size ?? 1 }
    }

    /// Writes a TTree of flat and counter-jagged numeric branches and string branches,
    /// `entriesPerBasket` entries per basket; by default as many entries as make a 30 MB cluster,
    /// ROOT's own choice (fAutoFlush -30000000, after which TTree::OptimizeBaskets sizes every
    /// branch's basket to hold the whole cluster), so that large trees read in few, large baskets.
    public func writeTree(_ branches: [TreeBranchData], to objectPath: String, title: String = "", entriesPerBasket: Int? = nil) throws {
        func fail(_ reason: String) -> FileFormatError { FileFormatError(file: path, object: objectPath, reason: reason) }
        let entriesPerBasket = entriesPerBasket ?? ROOTWriter.clusterEntries(branches)
        guard entriesPerBasket > 0 else { throw fail("entriesPerBasket must be positive") }
        var planned: [PlannedBranch] = []
        var names = Set(branches.map(\.column.name))
        var entries: Int?
        for branch in branches {
            let column = branch.column
            let type = column.values.elementType
            if type == nil, column.offsets != nil || !column.itemShape.isEmpty {
                throw fail("branch \(column.name): lists of strings are not supported by the writer (one string per entry is)")
            }
            let perEntry = column.itemShape.reduce(1, *)
            let count: Int
            if let offsets = column.offsets {
                guard let counter = branch.counter, offsets.first == 0, offsets.last == column.values.count / perEntry,
                      zip(offsets, offsets.dropFirst()).allSatisfy({ $0 <= $1 }) else {
                    throw fail("branch \(column.name): jagged columns need a counter name and valid offsets")
                }
                count = offsets.count - 1
                if !names.contains(counter) {
                    let counts = zip(offsets.dropFirst(), offsets).map { Int32($0 - $1) }
                    planned.append(PlannedBranch(name: counter, type: .int32, perEntry: 1, offsets: nil, counter: nil, values: .int32(counts)))
                    names.insert(counter)
                }
            } else {
                guard column.values.count % perEntry == 0 else { throw fail("branch \(column.name): values are not a multiple of \(perEntry)") }
                count = column.values.count / perEntry
            }
            if let entries, entries != count { throw fail("branch \(column.name) has \(count) entries, others \(entries)") }
            entries = count
            planned.append(PlannedBranch(name: column.name, type: type, perEntry: perEntry, offsets: column.offsets, counter: branch.counter,
                                         values: column.values))
        }
        let entryCount = entries ?? 0
        // Counters go first so that jagged leaves can refer back to them.
        let counterNames = Set(planned.compactMap(\.counter))
        planned = planned.filter { counterNames.contains($0.name) } + planned.filter { !counterNames.contains($0.name) }
        for index in planned.indices where counterNames.contains(planned[index].name) {
            planned[index].maximum = (0..<planned[index].values.count).reduce(0) { max($0, Int(planned[index].values.double(at: $1))) }
        }
        // A TLeafC's fMaximum is its longest string plus one, as TLeafC::FillBasket records it.
        for index in planned.indices {
            if case .string(let strings) = planned[index].values { planned[index].maximum = (strings.map(\.utf8.count).max() ?? 0) + 1 }
        }
        let (directory, treeName) = try self.directory(for: objectPath)

        // Baskets first: the branch records need their positions. Every basket is serialized and
        // compressed on the worker threads, then appended in branch and entry order, so the file
        // is the same whatever the thread count.
        let baskets = planned.indices.flatMap { branch in
            stride(from: 0, to: entryCount, by: entriesPerBasket).map { (branch: branch, entries: $0..<min(entryCount, $0 + entriesPerBasket)) }
        }
        let keyLengths = planned.map { ROOTWriter.keyHeaderLength(className: "TBasket", name: $0.name, title: treeName, big: true) + 19 }
        let branches = planned, compression = self.compression
        let encoded = try Parallel.map(baskets.count) { index in
            let basket = baskets[index]
            return try ROOTWriter.encodeBasket(branches[basket.branch], entries: basket.entries, keyLength: keyLengths[basket.branch], compression: compression)
        }
        for (basket, encoded) in zip(baskets, encoded) {
            let number = planned[basket.branch].basketSeek.count
            appendBasket(&planned[basket.branch], encoded, entries: basket.entries, number: number, keyLength: keyLengths[basket.branch],
                         treeName: treeName, directory: directory)
        }
        for index in planned.indices { planned[index].basketEntry.append(entryCount) }

        streamedClasses.formUnion(["TTree", "TBranch"] + planned.map(\.leafClass))
        try writeObject(className: "TTree", path: objectPath, title: title) { keyLength in
            var writer = ByteWriter()
            var tags = ClassTags(keyLength: keyLength)
            let start = writer.beginObject(version: 20)
            writer.tnamed(treeName, title)
            ROOTWriter.encodeAttributes(&writer)
            writer.i64(entryCount)
            writer.i64(planned.reduce(0) { $0 + $1.totalBytes })
            writer.i64(planned.reduce(0) { $0 + $1.zippedBytes })
            writer.i64(0)  // fSavedBytes
            writer.i64(0)  // fFlushedBytes
            writer.f64(1)  // fWeight
            writer.i32(0); writer.i32(25); writer.i32(0)  // fTimerInterval, fScanField, fUpdate
            writer.i32(1000)  // fDefaultEntryOffsetLen
            writer.i32(0)  // fNClusterRange
            writer.i64(1_000_000_000_000); writer.i64(1_000_000_000_000)  // fMaxEntries, fMaxEntryLoop
            writer.i64(0); writer.i64(-300_000_000); writer.i64(-30_000_000)  // fMaxVirtualSize, fAutoSave, fAutoFlush
            writer.i64(1_000_000)  // fEstimate
            writer.u8(0); writer.u8(0)  // fClusterRangeEnd, fClusterSize (empty)
            ROOTWriter.encodeIOFeatures(&writer)
            // fBranches, remembering each leaf's reference tag for fLeafCount and the TTree's fLeaves.
            var leafTags: [String: UInt32] = [:]
            let branchArray = writer.beginObject(version: 3)
            writer.tobject()
            writer.tstring("")
            writer.i32(planned.count)
            writer.i32(0)
            for branch in planned {
                leafTags[branch.name] = encodeBranch(branch, entries: entryCount, counterTag: branch.counter.flatMap { leafTags[$0] }, &writer, &tags)
            }
            writer.endObject(branchArray)
            let leafArray = writer.beginObject(version: 3)
            writer.tobject()
            writer.tstring("")
            writer.i32(planned.count)
            writer.i32(0)
            for branch in planned { writer.u32(leafTags[branch.name] ?? 0) }
            writer.endObject(leafArray)
            writer.u32(0)  // fAliases
            writer.i32(0)  // fIndexValues
            writer.i32(0)  // fIndex
            for _ in 0..<4 { writer.u32(0) }  // fTreeIndex, fFriends, fUserInfo, fBranchRef
            writer.endObject(start)
            return writer.bytes
        }
    }

    /// Entries in a cluster of about 30 MB of uncompressed data, ROOT's default fAutoFlush.
    static func clusterEntries(_ branches: [TreeBranchData]) -> Int {
        let entries = branches.map(\.column.entryCount).max() ?? 0
        let bytes = branches.reduce(0) { total, branch in
            let column = branch.column
            let size: Int
            switch column.values {
            case .string(let strings): size = strings.reduce(0) { $0 + $1.utf8.count + 1 }
            default: size = column.values.count * (column.values.elementType?.size ?? 1)
            }
            return total + size + (column.offsets == nil ? 0 : 4 * entries)
        }
        guard entries > 0, bytes > 0 else { return max(1, entries) }
        return max(1, Int(Double(entries) * min(1, 30_000_000 / Double(bytes))))
    }

    /// ROOT::TIOFeatures: a foreign class streamed as version 0 plus a checksum, then fIOBits.
    static func encodeIOFeatures(_ writer: inout ByteWriter) {
        let start = writer.beginObject(version: 0)
        writer.u32(0x1AA1_2F10)
        writer.u8(0)
        writer.endObject(start)
    }

    /// A basket's payload (values, then the entry-offset table of jagged and string branches),
    /// its stored form and the fields of its key header that depend on them.
    private struct EncodedBasket: Sendable {
        var stored: [UInt8]
        var payloadCount: Int
        var dataCount: Int
        var entrySize: Int
    }

    private static func encodeBasket(_ branch: PlannedBranch, entries: Range<Int>, keyLength: Int, compression: Compression) throws -> EncodedBasket {
        let itemSize = branch.perEntry
        var data: [UInt8]
        var table: [UInt8] = []
        var entrySize = itemSize * branch.elementSize
        /// The entry-offset table: fNevBuf+1 count, key-relative entry starts, a trailing 0.
        func offsetTable(_ starts: [Int]) -> [UInt8] {
            var writer = ByteWriter()
            writer.i32(entries.count + 1)
            for start in starts { writer.i32(keyLength + start) }
            writer.i32(0)
            return writer.bytes
        }
        if case .string(let strings) = branch.values {
            var writer = ByteWriter()
            var starts: [Int] = []
            for entry in entries {
                starts.append(writer.count)
                writer.tstring(strings[entry])
            }
            data = writer.bytes
            table = offsetTable(starts)
            entrySize = 1000
        } else if let type = branch.type, let offsets = branch.offsets {
            let first = offsets[entries.lowerBound] * itemSize, last = offsets[entries.upperBound] * itemSize
            data = branch.values.bigEndianBytes(first..<last)
            table = offsetTable(entries.map { (offsets[$0] * itemSize - first) * type.size })
            entrySize = 1000
        } else {
            data = branch.values.bigEndianBytes((entries.lowerBound * itemSize)..<(entries.upperBound * itemSize))
        }
        let dataCount = data.count
        data += table
        let stored = try compress(data, with: compression) ?? data
        return EncodedBasket(stored: stored, payloadCount: data.count, dataCount: dataCount, entrySize: entrySize)
    }

    private func appendBasket(_ branch: inout PlannedBranch, _ basket: EncodedBasket, entries: Range<Int>, number: Int, keyLength: Int,
                              treeName: String, directory: Directory) {
        let seek = output.count
        var header = ROOTWriter.keyHeader(datime: datime, nbytes: keyLength + basket.stored.count, objectLength: basket.payloadCount, keyLength: keyLength,
                                          cycle: number + 1, seekKey: seek, seekParent: directory.seekKey, className: "TBasket", name: branch.name,
                                          title: treeName, big: true)
        var extra = ByteWriter()
        extra.u16(3)
        extra.i32(max(32000, basket.payloadCount + keyLength))
        extra.i32(basket.entrySize)
        extra.i32(entries.count)
        extra.i32(keyLength + basket.dataCount)
        extra.u8(0)
        header += extra.bytes
        output.append(header)
        output.append(basket.stored)
        branch.basketBytes.append(keyLength + basket.stored.count)
        branch.basketEntry.append(entries.lowerBound)
        branch.basketSeek.append(seek)
        branch.totalBytes += keyLength + basket.payloadCount
        branch.zippedBytes += keyLength + basket.stored.count
    }

    /// Writes a TBranch (through an object pointer) and returns its leaf's reference tag.
    private func encodeBranch(_ branch: PlannedBranch, entries: Int, counterTag: UInt32?, _ writer: inout ByteWriter, _ tags: inout ClassTags) -> UInt32 {
        let dimensions = (branch.counter.map { "[\($0)]" } ?? "") + (branch.perEntry > 1 ? "[\(branch.perEntry)]" : "")
        let pointer = tags.beginPointer("TBranch", &writer)
        let start = writer.beginObject(version: 13)
        writer.tnamed(branch.name, "\(branch.name)\(dimensions)/\(branch.letter)")
        ROOTWriter.encodeAttributes(&writer, line: false, marker: false)
        let baskets = branch.basketSeek.count
        let capacity = max(10, baskets + 1)
        writer.i32(compression.code)
        writer.i32(32000)  // fBasketSize
        writer.i32(branch.offsets == nil && branch.type != nil ? 0 : 1000)  // fEntryOffsetLen
        writer.i32(baskets)  // fWriteBasket
        writer.i64(entries)  // fEntryNumber
        ROOTWriter.encodeIOFeatures(&writer)
        writer.i32(0)  // fOffset
        writer.i32(capacity)  // fMaxBaskets
        writer.i32(0)  // fSplitLevel
        writer.i64(entries)
        writer.i64(0)  // fFirstEntry
        writer.i64(branch.totalBytes)
        writer.i64(branch.zippedBytes)
        let subBranches = writer.beginObject(version: 3)  // fBranches: none
        writer.tobject(); writer.tstring(""); writer.i32(0); writer.i32(0)
        writer.endObject(subBranches)
        let leaves = writer.beginObject(version: 3)
        writer.tobject(); writer.tstring(""); writer.i32(1); writer.i32(0)
        let leafPointer = tags.beginPointer(branch.leafClass, &writer)
        let leafTag = tags.referenceTag(of: leafPointer)
        let leaf = writer.beginObject(version: 1)
        let base = writer.beginObject(version: 2)
        writer.tnamed(branch.name, "\(branch.name)\(dimensions)")
        // fLen: a TLeafC's is its longest string plus one (ROOT reads at most fLen - 1 characters).
        writer.i32(branch.type == nil ? branch.maximum : branch.perEntry)
        writer.i32(branch.elementSize)
        writer.i32(0)  // fOffset
        writer.u8(0)  // fIsRange
        writer.u8(branch.type?.isUnsigned == true ? 1 : 0)
        writer.u32(counterTag ?? 0)
        writer.endObject(base)
        // fMinimum, fMaximum in the leaf's type (Int_t for TLeafC); counters and strings record their largest value.
        let zero = [UInt8](repeating: 0, count: branch.type?.size ?? 4)
        writer.append(zero)
        if branch.type == .int32 || branch.type == nil {
            writer.i32(branch.maximum)
        } else {
            writer.append(zero)
        }
        writer.endObject(leaf)
        writer.endObject(leafPointer)
        writer.endObject(leaves)
        let basketArray = writer.beginObject(version: 3)
        writer.tobject(); writer.tstring(""); writer.i32(0); writer.i32(0)
        writer.endObject(basketArray)
        writer.u8(1)
        for i in 0..<capacity { writer.i32(i < baskets ? branch.basketBytes[i] : 0) }
        writer.u8(1)
        for i in 0..<capacity { writer.i64(i <= baskets ? branch.basketEntry[i] : 0) }
        writer.u8(1)
        for i in 0..<capacity { writer.i64(i < baskets ? branch.basketSeek[i] : 0) }
        writer.tstring("")  // fFileName
        writer.endObject(start)
        writer.endObject(pointer)
        return leafTag
    }
}
