import HEPMLCore

/// ROOT's object-stream conventions on top of `ByteReader`: byte counts, versions, TStrings and
/// the versionless TObject header (spec §4).
extension ByteReader {
    /// Reads a TString: a 1-byte length, or 255 followed by a 4-byte length.
    mutating func readTString() throws -> String {
        var count = Int(try readUInt8())
        if count == 255 { count = try readCount32(limit: remaining, what: "TString length") }
        return try readString(count: count)
    }

    /// Reads the byte-count word and class version that open most objects. Returns the version and
    /// the position where the object ends (nil when the stream carries no byte count).
    mutating func readVersionHeader(_ what: String) throws -> (version: Int, end: Int?) {
        try readVersionHeader(what, payloadLength: bytes.count)
    }

    /// `readVersionHeader` where `bytes` may be only the start of a payload of `payloadLength`
    /// bytes (`ROOTFile.histogramAxes`): the byte count is checked against the whole payload.
    mutating func readVersionHeader(_ what: String, payloadLength: Int) throws -> (version: Int, end: Int?) {
        let start = position
        let word = try readUInt32()
        if word & 0x4000_0000 != 0 {
            let count = Int(word & ~UInt32(0x4000_0000))
            guard count >= 2, count <= payloadLength - position else {
                throw error("\(what) byte count \(count) exceeds the \(payloadLength - position) bytes left", at: start)
            }
            let version = Int(try readUInt16())
            return (version, start + 4 + count)
        }
        try seek(to: start)
        return (Int(try readUInt16()), nil)
    }

    /// Jumps to the end recorded by the object's byte count (the skip rule that makes unknown
    /// versions and trailing members survivable).
    mutating func finishObject(end: Int?, _ what: String) throws {
        guard let end else { return }
        guard end >= position else {
            throw error("\(what) read \(position - end) bytes past its byte count")
        }
        try seek(to: end)
    }

    /// Reads a TObject header and returns (fUniqueID, fBits).
    @discardableResult
    mutating func readTObject() throws -> (uniqueID: UInt32, bits: UInt32) {
        let version = try readInt16()
        if version & 0x4000 != 0 { try skip(4) }  // the i16 was the high half of a byte count
        let uniqueID = try readUInt32()
        let bits = try readUInt32()
        if bits & 0x10 != 0 { try skip(2) }  // kIsReferenced adds a process-id slot
        return (uniqueID, bits)
    }

    /// Reads a TNamed (with its own byte count) and returns name and title.
    mutating func readTNamed() throws -> (name: String, title: String) {
        let header = try readVersionHeader("TNamed")
        try readTObject()
        let name = try readTString()
        let title = try readTString()
        try finishObject(end: header.end, "TNamed")
        return (name, title)
    }

    /// Skips a whole object that carries a byte count (attribute bases and the like).
    mutating func skipObject(_ what: String) throws {
        let header = try readVersionHeader(what)
        guard let end = header.end else { throw error("\(what) has no byte count to skip by") }
        try seek(to: end)
    }

    /// Reads a TArray body: a 4-byte count and that many elements of `width` bytes, decoded by `element`.
    mutating func readArrayCount(width: Int, what: String) throws -> Int {
        let count = try readCount32(limit: remaining / max(width, 1), what: "\(what) length")
        return count
    }

    mutating func readFloat64Array(count: Int) throws -> [Double] {
        try require(count * 8, for: "array of \(count) doubles")
        var values = [Double](repeating: 0, count: count)
        for i in 0..<count { values[i] = try readFloat64() }
        return values
    }

    mutating func readTArrayD(_ what: String) throws -> [Double] {
        try readFloat64Array(count: try readArrayCount(width: 8, what: what))
    }
}

/// What came out of an object pointer (§4.7): only the kinds the readers need are decoded; every
/// other class is skipped by byte count but still registered so later references resolve.
enum StreamedObject {
    case branch(Branch)
    case leaf(Leaf)
    case string(uniqueID: UInt32, text: String)
    case list([StreamedObject?])
    case basket(EmbeddedBasket)
    case streamerInfo(StreamerInfo)
    case streamerElement(StreamerElement)
    case other(className: String)
}

/// The per-key map of class tags and object positions used by object pointers. Positions are
/// relative to the start of the key, so they are `payload index + fKeylen`.
final class ReferenceMap {
    let keyLength: Int
    var classes: [Int: String] = [:]
    var objects: [Int: StreamedObject] = [:]

    init(keyLength: Int) { self.keyLength = keyLength }

    /// Reads an object pointer and returns the object (nil for a null pointer or an unknown reference).
    func readObjectPointer(_ reader: inout ByteReader) throws -> StreamedObject? {
        let begin = reader.position
        let word = try reader.readUInt32()
        var tag = word
        var start = begin
        var hasByteCount = false
        if word & 0x4000_0000 != 0 && word != 0xFFFF_FFFF {
            hasByteCount = true
            start = reader.position
            tag = try reader.readUInt32()
        }
        if tag & 0x8000_0000 == 0 {
            if tag == 0 { return nil }
            if let object = objects[Int(tag)] { return object }
            if tag == 1 { return nil }  // the parent object: never needed by these readers
            if hasByteCount {
                let end = begin + 4 + Int(word & ~UInt32(0x4000_0000))
                try reader.seek(to: end)
            }
            return nil
        }
        let className: String
        if tag == 0xFFFF_FFFF {
            var nameBytes: [UInt8] = []
            while true {
                let byte = try reader.readUInt8()
                if byte == 0 { break }
                nameBytes.append(byte)
                guard nameBytes.count < 4096 else { throw reader.error("class name is not terminated") }
            }
            className = String(decoding: nameBytes, as: UTF8.self)
            classes[start + keyLength + 2] = className
        } else {
            let classTag = Int(tag & ~UInt32(0x8000_0000))
            guard let known = classes[classTag] else {
                throw reader.error("object pointer refers to unknown class tag \(classTag)")
            }
            className = known
        }
        let object = try readObject(className: className, &reader)
        objects[begin + keyLength + 2] = object
        return object
    }

    /// Decodes one object of a known class at the reader's position (it starts with its own byte count).
    func readObject(className: String, _ reader: inout ByteReader) throws -> StreamedObject {
        switch className {
        case "TBranch", "TBranchElement", "TBranchObject":
            return .branch(try Branch.read(className: className, &reader, references: self))
        case _ where className.hasPrefix("TLeaf"):
            return .leaf(try Leaf.read(className: className, &reader, references: self))
        case "TObjString":
            let header = try reader.readVersionHeader("TObjString")
            let object = try reader.readTObject()
            let text = try reader.readTString()
            try reader.finishObject(end: header.end, "TObjString")
            return .string(uniqueID: object.uniqueID, text: text)
        case "TList", "THashList":
            return .list(try readList(&reader))
        case "TObjArray":
            return .list(try readObjArray(&reader))
        case "TBasket":
            return .basket(try EmbeddedBasket.read(&reader))
        case "TStreamerInfo":
            return .streamerInfo(try readStreamerInfo(&reader))
        default:
            if let kind = StreamerElement.Kind(rawValue: className) {
                return .streamerElement(try readStreamerElement(kind, &reader))
            }
            try reader.skipObject(className)
            return .other(className: className)
        }
    }

    /// TList/THashList: header, TObject, name, count, then (object pointer, option string) pairs.
    func readList(_ reader: inout ByteReader) throws -> [StreamedObject?] {
        let header = try reader.readVersionHeader("TList")
        try reader.readTObject()
        _ = try reader.readTString()
        let count = try reader.readCount32(limit: reader.remaining / 5, what: "TList size")
        var items: [StreamedObject?] = []
        items.reserveCapacity(count)
        for _ in 0..<count {
            items.append(try readObjectPointer(&reader))
            if header.version > 3 { _ = try reader.readTString() }
        }
        try reader.finishObject(end: header.end, "TList")
        return items
    }

    /// TObjArray: header, TObject, name, count, lower bound, then object pointers.
    func readObjArray(_ reader: inout ByteReader) throws -> [StreamedObject?] {
        let header = try reader.readVersionHeader("TObjArray")
        try reader.readTObject()
        _ = try reader.readTString()
        let count = try reader.readCount32(limit: reader.remaining / 4, what: "TObjArray size")
        _ = try reader.readInt32()
        var items: [StreamedObject?] = []
        items.reserveCapacity(count)
        for _ in 0..<count { items.append(try readObjectPointer(&reader)) }
        try reader.finishObject(end: header.end, "TObjArray")
        return items
    }
}
