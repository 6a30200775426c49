import HEPMLCore

/// A TLeaf: the type description of one column inside a branch (spec §7.4).
public final class Leaf: @unchecked Sendable {
    public let className: String
    public let name: String
    public let title: String
    /// Product of the fixed dimensions (10 for `a[10]`).
    public let length: Int
    /// Bytes per element.
    public let lengthType: Int
    public let isUnsigned: Bool
    /// The counter leaf of a counter-jagged `x[n]` leaf.
    public let counter: Leaf?
    /// TLeafElement only: the streamer type code of the member.
    public let elementTypeCode: Int

    init(className: String, name: String, title: String, length: Int, lengthType: Int, isUnsigned: Bool, counter: Leaf?, elementTypeCode: Int) {
        self.className = className
        self.name = name
        self.title = title
        self.length = length
        self.lengthType = lengthType
        self.isUnsigned = isUnsigned
        self.counter = counter
        self.elementTypeCode = elementTypeCode
    }

    static func read(className: String, _ reader: inout ByteReader, references: ReferenceMap) throws -> Leaf {
        let outer = try reader.readVersionHeader(className)
        let base = try reader.readVersionHeader("TLeaf")
        let named = try reader.readTNamed()
        let length = Int(try reader.readInt32())
        let lengthType = Int(try reader.readInt32())
        _ = try reader.readInt32()  // fOffset
        _ = try reader.readUInt8()  // fIsRange
        let isUnsigned = try reader.readUInt8() != 0
        var counter: Leaf?
        if case .leaf(let leaf)? = try references.readObjectPointer(&reader) { counter = leaf }
        try reader.finishObject(end: base.end, "TLeaf")
        var typeCode = -1
        if className == "TLeafElement" {
            _ = try reader.readInt32()  // fID
            typeCode = Int(try reader.readInt32())
        }
        try reader.finishObject(end: outer.end, className)
        guard length >= 0, length < 1 << 24, lengthType >= 0, lengthType <= 16 else {
            throw reader.error("leaf \(named.name) has an implausible size (\(length) × \(lengthType))")
        }
        return Leaf(className: className, name: named.name, title: named.title, length: length, lengthType: lengthType,
                    isUnsigned: isUnsigned, counter: counter, elementTypeCode: typeCode)
    }
}

/// A basket serialized inside the TTree record because the writer never flushed it (spec §7.8):
/// every small tree of older files, and the last basket of a tree written without a final flush.
struct EmbeddedBasket: Sendable {
    var entryCount: Int
    var data: [UInt8]
    /// Entry start offsets inside `data` (entryCount + 1 values), when stored.
    var offsets: [Int]?

    /// Reads TBasket::Streamer's layout: the key header (fNbytes 0) and the TBasket fields, which
    /// together make up fKeylen, then the offset table, the displacements and a copy of the key
    /// followed by the data, each present according to the flag byte.
    static func read(_ reader: inout ByteReader) throws -> EmbeddedBasket {
        let start = reader.position
        let key = try Key.read(&reader)
        let header = try BasketHeader.read(&reader)
        let flag = header.flag
        let dataLength = header.last - key.keyLength
        guard key.keyLength >= reader.position - start, dataLength >= 0 else {
            throw reader.error("embedded basket has fKeylen \(key.keyLength) and fLast \(header.last), which leave no room for its header", at: start)
        }
        var offsets: [Int]?
        if flag != 0, flag < 80, flag % 10 != 2 {
            let count = try reader.readCount32(limit: reader.remaining / 4, what: "embedded basket offset count")
            guard count >= header.entryCount else {
                throw reader.error("embedded basket stores \(count) entry offsets for \(header.entryCount) entries")
            }
            offsets = try BasketHeader.entryOffsets(&reader, entryCount: header.entryCount, keyLength: key.keyLength, dataLength: dataLength)
            try reader.skip((count - header.entryCount) * 4)
        }
        if flag > 40 {
            let count = try reader.readCount32(limit: reader.remaining / 4, what: "embedded basket displacement count")
            try reader.skip(count * 4)
        }
        var data: [UInt8] = []
        if flag == 1 || flag > 10 {
            try reader.skip(key.keyLength)
            data = Array(try reader.readBytes(dataLength))
        } else if header.entryCount > 0 {
            throw reader.error("embedded basket of \(header.entryCount) entries carries no data (flag \(flag))", at: start)
        }
        return EmbeddedBasket(entryCount: header.entryCount, data: data, offsets: offsets)
    }
}

/// The TBasket fields that follow the key header (spec §7.6), read forward.
struct BasketHeader {
    var entrySize: Int
    var entryCount: Int
    var last: Int
    var flag: Int
    var generatesOffsets: Bool

    static func read(_ reader: inout ByteReader) throws -> BasketHeader {
        _ = try reader.readUInt16()  // fVersion
        _ = try reader.readInt32()  // fBufferSize
        var entrySize = Int(try reader.readInt32())
        var generatesOffsets = false
        if entrySize < 0 {
            entrySize = -entrySize
            generatesOffsets = try reader.readUInt8() & 1 != 0
        }
        let entryCount = try reader.readCount32(limit: 1 << 31 - 1, what: "basket fNevBuf")
        let last = Int(try reader.readInt32())
        let flag = Int(try reader.readUInt8())
        return BasketHeader(entrySize: entrySize, entryCount: entryCount, last: last, flag: flag, generatesOffsets: generatesOffsets)
    }

    /// Reads `entryCount` key-relative entry starts and returns the `entryCount + 1` offsets into
    /// the basket data (the last one its length), each checked to lie inside the data, in order,
    /// so that no later slice can leave it.
    static func entryOffsets(_ reader: inout ByteReader, entryCount: Int, keyLength: Int, dataLength: Int) throws -> [Int] {
        try reader.require(entryCount * 4, for: "\(entryCount) entry offsets")
        var values = [Int](repeating: 0, count: entryCount + 1)
        for i in 0..<entryCount {
            let value = Int(try reader.readInt32()) - keyLength
            guard value >= 0, value <= dataLength, i == 0 || value >= values[i - 1] else {
                throw reader.error("entry offset \(value) of entry \(i) is out of order or outside the \(dataLength) data bytes")
            }
            values[i] = value
        }
        values[entryCount] = dataLength
        return values
    }
}

/// A TBranch, TBranchElement or TBranchObject with its basket table (spec §7.2–7.3).
public final class Branch: @unchecked Sendable {
    public let className: String
    public let name: String
    public let title: String
    public let branches: [Branch]
    public let leaves: [Leaf]
    public let entries: Int
    public let totalBytes: Int
    public let zippedBytes: Int
    /// TBranchElement/TBranchObject: the C++ class streamed in this branch (e.g. `vector<float>`).
    public let streamedClassName: String
    /// TBranchElement: fStreamerType (-1 for a top-level STL collection).
    public let streamerType: Int
    /// TBranchElement: fID, the index of this member in the parent class's TStreamerInfo elements.
    let elementID: Int
    /// TBranchElement: fType (0 a member or top-level object, 3/4 a split TClonesArray/STL
    /// collection of objects, whose members have 31/41 and hold one value per object).
    let elementType: Int
    let entryOffsetLength: Int
    let basketBytes: [Int]
    let basketEntry: [Int]
    let basketSeek: [Int]
    let embedded: [EmbeddedBasket]

    init(className: String, name: String, title: String, branches: [Branch], leaves: [Leaf], entries: Int, totalBytes: Int,
         zippedBytes: Int, streamedClassName: String, streamerType: Int, elementID: Int, elementType: Int, entryOffsetLength: Int, basketBytes: [Int],
         basketEntry: [Int], basketSeek: [Int], embedded: [EmbeddedBasket]) {
        self.className = className
        self.name = name
        self.title = title
        self.branches = branches
        self.leaves = leaves
        self.entries = entries
        self.totalBytes = totalBytes
        self.zippedBytes = zippedBytes
        self.streamedClassName = streamedClassName
        self.streamerType = streamerType
        self.elementID = elementID
        self.elementType = elementType
        self.entryOffsetLength = entryOffsetLength
        self.basketBytes = basketBytes
        self.basketEntry = basketEntry
        self.basketSeek = basketSeek
        self.embedded = embedded
    }

    static func read(className: String, _ reader: inout ByteReader, references: ReferenceMap) throws -> Branch {
        var outer: (version: Int, end: Int?)?
        if className != "TBranch" { outer = try reader.readVersionHeader(className) }
        let header = try reader.readVersionHeader("TBranch")
        let version = header.version
        guard version >= 10 else { throw reader.error("TBranch version \(version) is not supported") }
        let named = try reader.readTNamed()
        try reader.skipObject("TAttFill")
        _ = try reader.readInt32()  // fCompress
        _ = try reader.readInt32()  // fBasketSize
        let entryOffsetLength = Int(try reader.readInt32())
        let writeBasket = try reader.readCount32(limit: 1 << 24, what: "TBranch fWriteBasket")
        _ = try reader.readInt64()  // fEntryNumber
        if version >= 13 { try reader.skipObject("TIOFeatures") }
        _ = try reader.readInt32()  // fOffset
        let maxBaskets = try reader.readCount32(limit: reader.remaining / 21, what: "TBranch fMaxBaskets")
        _ = try reader.readInt32()  // fSplitLevel
        let entries = Int(try reader.readInt64())
        if version >= 11 { _ = try reader.readInt64() }  // fFirstEntry
        let totalBytes = Int(try reader.readInt64())
        let zippedBytes = Int(try reader.readInt64())
        var branches: [Branch] = []
        for case .branch(let branch)? in try references.readObjArray(&reader) { branches.append(branch) }
        var leaves: [Leaf] = []
        for case .leaf(let leaf)? in try references.readObjArray(&reader) { leaves.append(leaf) }
        var embedded: [EmbeddedBasket] = []
        for case .basket(let basket)? in try references.readObjArray(&reader) { embedded.append(basket) }
        _ = try reader.readUInt8()
        var basketBytes: [Int] = [], basketEntry: [Int] = [], basketSeek: [Int] = []
        for _ in 0..<maxBaskets { basketBytes.append(Int(try reader.readInt32())) }
        _ = try reader.readUInt8()
        for _ in 0..<maxBaskets { basketEntry.append(Int(try reader.readInt64())) }
        _ = try reader.readUInt8()
        for _ in 0..<maxBaskets { basketSeek.append(Int(try reader.readInt64())) }
        try reader.finishObject(end: header.end, "TBranch")
        var streamedClassName = "", streamerType = 0, elementID = -1, elementType = 0
        if className == "TBranchElement" || className == "TBranchObject" {
            streamedClassName = try reader.readTString()
            if className == "TBranchElement" {
                _ = try reader.readTString()  // fParentName
                _ = try reader.readTString()  // fClonesName
                _ = try reader.readUInt32()  // fCheckSum
                if outer?.version ?? 10 >= 10 { _ = try reader.readInt16() } else { _ = try reader.readInt32() }
                elementID = Int(try reader.readInt32())
                elementType = Int(try reader.readInt32())
                streamerType = Int(try reader.readInt32())
            }
        }
        try reader.finishObject(end: outer?.end, className)
        // Only the first fWriteBasket slots hold on-disk baskets; stop at the first zero seek.
        let usable = min(writeBasket, maxBaskets)
        var normal = 0
        while normal < usable, basketSeek[normal] > 0 { normal += 1 }
        return Branch(className: className, name: named.name, title: named.title, branches: branches, leaves: leaves,
                      entries: entries, totalBytes: totalBytes, zippedBytes: zippedBytes, streamedClassName: streamedClassName,
                      streamerType: streamerType, elementID: elementID, elementType: elementType, entryOffsetLength: entryOffsetLength,
                      basketBytes: Array(basketBytes.prefix(normal)),
                      basketEntry: Array(basketEntry.prefix(min(normal + 1, maxBaskets))),
                      basketSeek: Array(basketSeek.prefix(normal)), embedded: embedded)
    }

    /// This branch and all sub-branches, depth first.
    public var flattened: [Branch] { [self] + branches.flatMap(\.flattened) }

    /// Entry ranges of the baskets (on-disk first, then embedded), in entry order. They are checked
    /// to tile `fFirstEntry..<fEntries` (the first basket's entry up to the branch's entry count)
    /// without gaps or overlaps, so that no entry is read twice or from the wrong basket.
    func basketRanges(file: String, tree: String) throws -> [Range<Int>] {
        func fail(_ reason: String) -> FileFormatError {
            FileFormatError(file: file, object: "\(tree)/\(name)", reason: reason)
        }
        let embeddedEntries = embedded.reduce(0) { $0 + $1.entryCount }
        var ranges: [Range<Int>] = []
        var start = basketEntry.first ?? 0
        guard start >= 0, start <= entries else { throw fail("first basket starts at entry \(start), outside the branch's \(entries) entries") }
        for i in 0..<basketSeek.count {
            let end = i + 1 < basketEntry.count ? basketEntry[i + 1] : entries - embeddedEntries
            guard end >= start, end <= entries else {
                throw fail("basket \(i) would hold entries \(start)..<\(end) of the branch's \(entries)")
            }
            ranges.append(start..<end)
            start = end
        }
        for basket in embedded {
            guard basket.entryCount <= entries - start else {
                throw fail("embedded basket of \(basket.entryCount) entries starts at entry \(start) of the branch's \(entries)")
            }
            ranges.append(start..<(start + basket.entryCount))
            start += basket.entryCount
        }
        guard start == entries || ranges.isEmpty else {
            throw fail("baskets hold entries up to \(start), the branch has \(entries)")
        }
        return ranges
    }
}

/// A TTree: its entry count and branch hierarchy (spec §7.1). Arrays are read with `arrays`.
public final class Tree: @unchecked Sendable {
    public let name: String
    public let title: String
    public let entries: Int
    public let branches: [Branch]
    let file: ROOTFile
    let path: String
    /// uproot's full path of every branch, keyed by identity.
    let branchPaths: [ObjectIdentifier: String]
    /// How many data branches share each name.
    let shortNameCounts: [String: Int]

    init(name: String, title: String, entries: Int, branches: [Branch], file: ROOTFile, path: String) {
        self.name = name
        self.title = title
        self.entries = entries
        self.branches = branches
        self.file = file
        self.path = path
        branchPaths = Self.paths(of: branches)
        shortNameCounts = branches.flatMap(\.flattened).filter(\.carriesData).reduce(into: [:]) { $0[$1.name, default: 0] += 1 }
    }

    /// Every branch, depth first (sub-branches of split objects included).
    public var allBranches: [Branch] { branches.flatMap(\.flattened) }

    static func read(className: String, _ reader: inout ByteReader, references: ReferenceMap, file: ROOTFile, path: String) throws -> Tree {
        if className != "TTree" { _ = try reader.readVersionHeader(className) }
        let header = try reader.readVersionHeader("TTree")
        let version = header.version
        guard (16...20).contains(version) else { throw reader.error("TTree version \(version) is not supported (16–20 are)") }
        let named = try reader.readTNamed()
        try reader.skipObject("TAttLine")
        try reader.skipObject("TAttFill")
        try reader.skipObject("TAttMarker")
        let entries = Int(try reader.readInt64())
        try reader.skip(3 * 8)  // fTotBytes, fZipBytes, fSavedBytes
        if version >= 18 { try reader.skip(8) }  // fFlushedBytes
        try reader.skip(8 + 3 * 4)  // fWeight, fTimerInterval, fScanField, fUpdate
        if version >= 17 { try reader.skip(4) }  // fDefaultEntryOffsetLen
        var clusterRanges = 0
        if version >= 19 { clusterRanges = try reader.readCount32(limit: reader.remaining / 16, what: "fNClusterRange") }
        try reader.skip(4 * 8)  // fMaxEntries, fMaxEntryLoop, fMaxVirtualSize, fAutoSave
        if version >= 18 { try reader.skip(8) }  // fAutoFlush
        try reader.skip(8)  // fEstimate
        if version >= 19 {
            for _ in 0..<2 {
                _ = try reader.readUInt8()
                try reader.skip(clusterRanges * 8)
            }
        }
        if version >= 20 { try reader.skipObject("TIOFeatures") }
        var branches: [Branch] = []
        for case .branch(let branch)? in try references.readObjArray(&reader) { branches.append(branch) }
        guard entries >= 0 else { throw reader.error("negative entry count") }
        return Tree(name: named.name, title: named.title, entries: entries, branches: branches, file: file, path: path)
    }
}
