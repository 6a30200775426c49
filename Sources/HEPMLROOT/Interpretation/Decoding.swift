import HEPMLCore

/// The part of one column that came from one basket: raw big-endian element bytes (or strings)
/// plus per-entry item counts for jagged layouts. Pieces are concatenated in entry order.
struct BasketPiece {
    var bytes: [UInt8] = []
    var strings: [String] = []
    var counts: [Int] = []
    var innerCounts: [Int] = []

    static func decode(_ basket: LoadedBasket, layout: ColumnLayout, entries: Range<Int>, counts: [Int]?,
                       file: String, object: String) throws -> BasketPiece {
        var piece = BasketPiece()
        let data = basket.data
        func fail(_ reason: String) -> FileFormatError { FileFormatError(file: file, object: object, reason: reason) }
        guard entries.upperBound <= basket.entryCount else {
            throw fail("basket holds \(basket.entryCount) entries, \(entries.upperBound) expected")
        }
        /// Entry byte ranges from stored offsets, or nil.
        func entryBounds(_ i: Int) -> Range<Int>? {
            guard let offsets = basket.offsets, i + 1 < offsets.count else { return nil }
            return offsets[i]..<offsets[i + 1]
        }
        switch layout {
        case .fixed:
            throw fail("fixed-size columns are decoded by Tree.readFixed, not by pieces")
        case .jagged(let type, let itemSize):
            let itemBytes = type.size * itemSize
            if let offsets = basket.offsets {
                let start = offsets[entries.lowerBound], end = offsets[entries.upperBound]
                piece.bytes = start == 0 && end == data.count ? data : Array(data[start..<end])
                piece.counts.reserveCapacity(entries.count)
                for i in entries {
                    let length = offsets[i + 1] - offsets[i]
                    guard length % itemBytes == 0 else { throw fail("entry \(i) has \(length) bytes, not a multiple of \(itemBytes)") }
                    piece.counts.append(length / itemBytes)
                }
            } else if let counts {
                guard counts.count >= entries.upperBound else { throw fail("counter branch has too few entries") }
                var position = 0
                for i in 0..<entries.upperBound {
                    guard counts[i] >= 0 else { throw fail("negative counter value \(counts[i]) at entry \(i)") }
                    let length = counts[i] * itemBytes
                    guard length <= data.count - position else { throw fail("jagged entry \(i) extends past the basket data") }
                    if i >= entries.lowerBound {
                        piece.bytes.append(contentsOf: data[position..<(position + length)])
                        piece.counts.append(counts[i])
                    }
                    position += length
                }
            }
        case .pointerArray(let type):
            if basket.offsets != nil {
                for i in entries {
                    guard let bounds = entryBounds(i) else { throw fail("missing entry offsets") }
                    let body = bounds.count > 0 ? bounds.dropFirst() : bounds
                    guard body.count % type.size == 0 else { throw fail("entry \(i) has a partial element") }
                    piece.bytes.append(contentsOf: data[body])
                    piece.counts.append(body.count / type.size)
                }
            } else if let counts {
                guard counts.count >= entries.upperBound else { throw fail("counter branch has too few entries") }
                var position = 0
                for i in 0..<entries.upperBound {
                    let length = counts[i] * type.size
                    guard counts[i] >= 0, 1 + length <= data.count - position else { throw fail("entry \(i) extends past the basket data") }
                    if i >= entries.lowerBound {
                        piece.bytes.append(contentsOf: data[(position + 1)..<(position + 1 + length)])
                        piece.counts.append(counts[i])
                    }
                    position += 1 + length
                }
            }
        case .string, .stdString, .vector, .vectorOfStrings, .vectorOfVectors:
            // Self-describing entries: walk them in order, re-synchronising on stored offsets when present.
            // With stored offsets every entry must end exactly where the next begins: a layout that
            // reads fewer or more bytes is the wrong one, and is refused rather than returning garbage.
            // Without offsets the whole basket is walked and must be used up exactly.
            var reader = ByteReader(data, file: file, object: object)
            for i in 0..<(basket.offsets == nil ? basket.entryCount : entries.upperBound) {
                let bounds = entryBounds(i)
                if let bounds {
                    if i < entries.lowerBound { continue }
                    try reader.seek(to: bounds.lowerBound)
                }
                var sink = BasketPiece()
                let target = entries.contains(i)
                switch layout {
                case .string:
                    sink.strings.append(try reader.readTString())
                case .stdString:
                    let end = try reader.readSTLHeader()
                    sink.strings.append(try reader.readTString())
                    try reader.finishSTLObject(end: end)
                case .vector(let type):
                    let end = try reader.readSTLHeader()
                    let n = try reader.readCount32(limit: reader.remaining / type.size, what: "vector size")
                    sink.bytes.append(contentsOf: try reader.readBytes(n * type.size))
                    sink.counts.append(n)
                    try reader.finishSTLObject(end: end)
                case .vectorOfStrings:
                    let end = try reader.readSTLHeader()
                    let n = try reader.readCount32(limit: reader.remaining, what: "vector size")
                    for _ in 0..<n { sink.strings.append(try reader.readTString()) }
                    sink.counts.append(n)
                    try reader.finishSTLObject(end: end)
                case .vectorOfVectors(let type):
                    let end = try reader.readSTLHeader()
                    let n = try reader.readCount32(limit: reader.remaining / 4, what: "vector size")
                    for _ in 0..<n {
                        let m = try reader.readCount32(limit: reader.remaining / type.size, what: "inner vector size")
                        sink.bytes.append(contentsOf: try reader.readBytes(m * type.size))
                        sink.innerCounts.append(m)
                    }
                    sink.counts.append(n)
                    try reader.finishSTLObject(end: end)
                default:
                    break
                }
                if let bounds, reader.position != bounds.upperBound {
                    throw fail("entry \(i) is \(bounds.count) bytes, but its \(layout.typeName) value took \(reader.position - bounds.lowerBound)")
                }
                if target {
                    piece.bytes += sink.bytes
                    piece.strings += sink.strings
                    piece.counts += sink.counts
                    piece.innerCounts += sink.innerCounts
                }
            }
            if basket.offsets == nil, reader.remaining != 0 {
                throw fail("\(reader.remaining) bytes are left after the basket's \(basket.entryCount) \(layout.typeName) entries")
            }
        }
        return piece
    }

    static func assemble(_ pieces: [BasketPiece], name: String, layout: ColumnLayout, itemShape: [Int]) -> ColumnArray {
        func prefixSum(_ counts: [Int]) -> [Int] {
            var offsets = [Int](repeating: 0, count: counts.count + 1)
            for (i, count) in counts.enumerated() { offsets[i + 1] = offsets[i] + count }
            return offsets
        }
        let allCounts = pieces.flatMap(\.counts)
        switch layout {
        case .string, .stdString:
            return ColumnArray(name: name, values: .string(pieces.flatMap(\.strings)), itemShape: [])
        case .vectorOfStrings:
            return ColumnArray(name: name, values: .string(pieces.flatMap(\.strings)), itemShape: [], offsets: prefixSum(allCounts))
        case .fixed(let type, _, _, _):
            return ColumnArray(name: name, values: .decode(pieces.map(\.bytes), as: type), itemShape: itemShape)
        case .jagged(let type, _), .pointerArray(let type), .vector(let type):
            return ColumnArray(name: name, values: .decode(pieces.map(\.bytes), as: type), itemShape: itemShape, offsets: prefixSum(allCounts))
        case .vectorOfVectors(let type):
            return ColumnArray(name: name, values: .decode(pieces.map(\.bytes), as: type), itemShape: [],
                               offsets: prefixSum(allCounts), innerOffsets: prefixSum(pieces.flatMap(\.innerCounts)))
        }
    }
}

extension ByteReader {
    /// Reads the byte count and version in front of a streamed STL object (`std::string`,
    /// `std::vector`; spec §7.7) and returns where the object ends. The byte count is required:
    /// an entry without one is not such an object, and memberwise streaming is refused.
    mutating func readSTLHeader() throws -> Int {
        let start = position
        let header = try readVersionHeader("STL object")
        guard let end = header.end else { throw error("STL object has no byte count", at: start) }
        guard header.version & 0x4000 == 0 else { throw error("memberwise-streamed collections are not supported", at: start) }
        return end
    }

    /// Checks that an STL object used up exactly its byte count.
    mutating func finishSTLObject(end: Int) throws {
        guard position == end else { throw error("STL object ends at \(position), its byte count says \(end)") }
    }
}
