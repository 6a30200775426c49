import HEPMLCore

/// One base class or data member of a class, as a TStreamerElement describes it (spec §6.6).
public struct StreamerElement: Sendable, Equatable {
    /// The TStreamerElement subclass, named as in the file.
    public enum Kind: String, Sendable {
        case base = "TStreamerBase"
        case basicType = "TStreamerBasicType"
        case basicPointer = "TStreamerBasicPointer"
        case loop = "TStreamerLoop"
        case string = "TStreamerString"
        case object = "TStreamerObject"
        case objectAny = "TStreamerObjectAny"
        case objectPointer = "TStreamerObjectPointer"
        case objectAnyPointer = "TStreamerObjectAnyPointer"
        case stl = "TStreamerSTL"
        case stlString = "TStreamerSTLstring"
        case artificial = "TStreamerArtificial"

        /// Class versions ROOT 6 writes for these element classes.
        var classVersion: Int16 {
            switch self {
            case .base, .stl: return 3
            default: return 2
            }
        }
    }

    public var kind: Kind
    public var name: String
    public var title: String
    /// fType: the streamer type code (kInt 3, kDouble 8, +40 pointer arrays, kObject 61, kSTL 500, …).
    public var type: Int
    /// fSize: the member's in-memory size on a 64-bit build (informational).
    public var size: Int
    public var arrayLength: Int = 0
    public var arrayDimension: Int = 0
    /// fMaxIndex (five slots). For base classes ROOT keeps the base's checksum in slot 1.
    public var maxIndex: [Int32] = [0, 0, 0, 0, 0]
    public var typeName: String
    /// TStreamerBase: the base class version.
    public var baseVersion: Int = 0
    /// TStreamerBasicPointer / TStreamerLoop: the counter member.
    public var countVersion: Int = 0
    public var countName: String = ""
    public var countClass: String = ""
    /// TStreamerSTL: the container kind (1 = vector) and the element's streamer type code.
    public var stlType: Int = 0
    public var contentType: Int = 0

    public var baseChecksum: UInt32 { UInt32(bitPattern: maxIndex[1]) }
}

/// A TStreamerInfo record: the layout of one version of one class.
public struct StreamerInfo: Sendable, Equatable {
    public var className: String
    public var version: Int
    public var checksum: UInt32
    public var elements: [StreamerElement]

    /// The class checksum ROOT derives from the class name, each base's name and checksum, and each
    /// persistent member's name, normalized type name, fixed dimensions and `[counter]` comment.
    /// Matches the checksums stored by C++ ROOT for every class the writer describes except the
    /// collection bases THashList and TSeqCollection, whose in-memory checksums cover members that
    /// are not streamed (those are given explicitly in `BuiltinStreamers`).
    static func computeChecksum(className: String, elements: [StreamerElement]) -> UInt32 {
        var id: UInt32 = 0
        func mix(_ text: String) { for byte in text.utf8 { id = id &* 3 &+ UInt32(byte) } }
        mix(className)
        for element in elements {
            if element.kind == .base {
                mix(element.name)
                id = id &* 3 &+ element.baseChecksum
                continue
            }
            let typeName = element.typeName.replacingOccurrences(of: "unsigned long long", with: "ULong64_t")
                .replacingOccurrences(of: "long long", with: "Long64_t")
            if let last = typeName.components(separatedBy: "::").last, last.count > 1, last.first == "E",
               last.dropFirst().first?.isUppercase == true {
                id = id &* 3 &+ 1  // enumerations are marked
            }
            mix(element.name)
            mix(typeName)
            for dimension in 0..<min(element.arrayDimension, 5) {
                id = id &* 3 &+ UInt32(bitPattern: element.maxIndex[dimension])
            }
            let title = element.title.drop { $0 == " " }
            if title.first == "[", let close = title.firstIndex(of: "]") {
                mix(String(title[title.index(after: title.startIndex)..<close]))
            }
        }
        return id
    }
}

// MARK: reading

extension ReferenceMap {
    func readStreamerInfo(_ reader: inout ByteReader) throws -> StreamerInfo {
        let header = try reader.readVersionHeader("TStreamerInfo")
        let named = try reader.readTNamed()
        let checksum = try reader.readUInt32()
        let version = Int(try reader.readInt32())
        var elements: [StreamerElement] = []
        if case .list(let items)? = try readObjectPointer(&reader) {
            for case .streamerElement(let element)? in items { elements.append(element) }
        }
        try reader.finishObject(end: header.end, "TStreamerInfo")
        return StreamerInfo(className: named.name, version: version, checksum: checksum, elements: elements)
    }

    func readStreamerElement(_ kind: StreamerElement.Kind, _ reader: inout ByteReader) throws -> StreamerElement {
        let header = try reader.readVersionHeader(kind.rawValue)
        if kind == .stlString {
            var element = try readStreamerElement(.stl, &reader)
            element.kind = .stlString
            try reader.finishObject(end: header.end, kind.rawValue)
            return element
        }
        let common = try reader.readVersionHeader("TStreamerElement")
        let named = try reader.readTNamed()
        let type = Int(try reader.readInt32())
        let size = Int(try reader.readInt32())
        let arrayLength = Int(try reader.readInt32())
        let arrayDimension = Int(try reader.readInt32())
        let slots = common.version == 1 ? try reader.readCount32(limit: 5, what: "fMaxIndex length") : 5
        var maxIndex: [Int32] = [0, 0, 0, 0, 0]
        for slot in 0..<slots { maxIndex[slot] = try reader.readInt32() }
        let typeName = try reader.readTString()
        try reader.finishObject(end: common.end, "TStreamerElement")
        var element = StreamerElement(kind: kind, name: named.name, title: named.title, type: type, size: size,
                                      arrayLength: arrayLength, arrayDimension: arrayDimension, maxIndex: maxIndex, typeName: typeName)
        switch kind {
        case .base where header.version >= 2:
            element.baseVersion = Int(try reader.readInt32())
        case .basicPointer, .loop:
            element.countVersion = Int(try reader.readInt32())
            element.countName = try reader.readTString()
            element.countClass = try reader.readTString()
        case .stl:
            element.stlType = Int(try reader.readInt32())
            element.contentType = Int(try reader.readInt32())
        default:
            break
        }
        try reader.finishObject(end: header.end, kind.rawValue)
        return element
    }
}

extension ROOTFile {
    /// The TStreamerInfo records of the file's StreamerInfo list (empty when the file has none).
    /// Other entries of the list (the TList of schema-evolution rules) are skipped.
    public func streamerInfos() throws -> [StreamerInfo] {
        try cachedStreamerInfos { try self.readStreamerInfos() }
    }

    private func readStreamerInfos() throws -> [StreamerInfo] {
        guard header.seekInfo != 0 else { return [] }
        let object = "StreamerInfo"
        let bytes = try source.read(at: header.seekInfo, count: header.nbytesInfo, object: object)
        var keyReader = ByteReader(bytes, file: path, object: object, baseOffset: header.seekInfo)
        var key = try Key.read(&keyReader)
        key.seekKey = header.seekInfo
        var reader = try objectReader(for: key, path: object)
        let items = try ReferenceMap(keyLength: key.keyLength).readList(&reader)
        return items.compactMap { item in
            if case .streamerInfo(let info)? = item { return info }
            return nil
        }
    }

    /// The streamer description of a class (the highest version when the file has several).
    func streamerInfo(named className: String) throws -> StreamerInfo? {
        try streamerInfos().filter { $0.className == className }.max { $0.version < $1.version }
    }
}

// MARK: writing

extension ByteWriter {
    /// Writes a TStreamerInfo through an object pointer, as an element of the StreamerInfo TList.
    mutating func streamerInfo(_ info: StreamerInfo, tags: inout ClassTags) {
        let pointer = tags.beginPointer("TStreamerInfo", &self)
        let start = beginObject(version: 9)
        tnamed(info.className, "")
        u32(info.checksum)
        i32(info.version)
        let arrayPointer = tags.beginPointer("TObjArray", &self)
        let array = beginObject(version: 3)
        tobject()
        tstring("")
        i32(info.elements.count)
        i32(0)  // fLowerBound
        for element in info.elements { streamerElement(element, tags: &tags) }
        endObject(array)
        endObject(arrayPointer)
        endObject(start)
        endObject(pointer)
    }

    private mutating func streamerElement(_ element: StreamerElement, tags: inout ClassTags) {
        let pointer = tags.beginPointer(element.kind.rawValue, &self)
        let start = beginObject(version: element.kind.classVersion)
        let stl = element.kind == .stlString ? beginObject(version: StreamerElement.Kind.stl.classVersion) : nil
        let common = beginObject(version: 4)
        tnamed(element.name, element.title)
        i32(element.type)
        i32(element.size)
        i32(element.arrayLength)
        i32(element.arrayDimension)
        for slot in element.maxIndex { i32(slot) }
        tstring(element.typeName)
        endObject(common)
        switch element.kind {
        case .base:
            i32(element.baseVersion)
        case .basicPointer, .loop:
            i32(element.countVersion)
            tstring(element.countName)
            tstring(element.countClass)
        case .stl, .stlString:
            i32(element.stlType)
            i32(element.contentType)
        default:
            break
        }
        if let stl { endObject(stl) }
        endObject(start)
        endObject(pointer)
    }
}
