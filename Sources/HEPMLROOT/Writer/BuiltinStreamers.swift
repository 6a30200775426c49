/// TStreamerInfo descriptions of every class the writer emits, so that readers which rely on the
/// StreamerInfo record (C++ ROOT's schema checks, uproot's generated models) understand HEPML's
/// files. Versions and members are those of ROOT 6.20+ (the layouts `HistogramWriter` and
/// `TreeWriter` produce); member types, sizes and counters follow the records C++ ROOT writes, and
/// checksums are derived by `StreamerInfo.computeChecksum`.
enum BuiltinStreamers {
    /// All descriptions by class name.
    static let byName: [String: StreamerInfo] = {
        var infos: [String: StreamerInfo] = [:]
        for description in descriptions {
            // Bases come earlier in `descriptions`, so their checksums are already known.
            let elements = description.elements.map { element -> StreamerElement in
                guard element.kind == .base, let base = infos[element.name] else { return element }
                var resolved = element
                resolved.baseVersion = base.version
                resolved.maxIndex[1] = Int32(bitPattern: base.checksum)
                return resolved
            }
            let checksum = description.checksum ?? StreamerInfo.computeChecksum(className: description.name, elements: elements)
            infos[description.name] = StreamerInfo(className: description.name, version: description.version, checksum: checksum,
                                                   elements: elements)
        }
        return infos
    }()

    /// The given classes plus every described class they use as a base or member, bases first
    /// (the order ROOT needs to build a class from its records).
    static func closure(of classNames: some Sequence<String>) -> [StreamerInfo] {
        var ordered: [StreamerInfo] = []
        var seen: Set<String> = []
        func visit(_ name: String) {
            guard !seen.contains(name), let info = byName[name] else { return }
            seen.insert(name)
            for element in info.elements {
                visit(element.kind == .base ? element.name : element.typeName.replacingOccurrences(of: "*", with: ""))
            }
            ordered.append(info)
        }
        for name in classNames.sorted() { visit(name) }
        return ordered
    }

    private struct Description {
        var name: String
        var version: Int
        var elements: [StreamerElement]
        /// Only for classes whose ROOT checksum is not derivable from their streamed members.
        var checksum: UInt32? = nil
    }

    // MARK: element builders

    private static func base(_ name: String, _ title: String) -> StreamerElement {
        let type = name == "TObject" ? 66 : name == "TNamed" ? 67 : 0
        return StreamerElement(kind: .base, name: name, title: title, type: type, size: 0, typeName: "BASE")
    }

    /// Basic types by streamer code: (C++ name, size).
    private static let basicTypes: [Int: (String, Int)] = [
        1: ("char", 1), 2: ("short", 2), 3: ("int", 4), 5: ("float", 4), 6: ("int", 4), 8: ("double", 8),
        11: ("unsigned char", 1), 12: ("unsigned short", 2), 13: ("unsigned int", 4), 15: ("unsigned int", 4),
        16: ("Long64_t", 8), 18: ("bool", 1),
    ]

    private static func basic(_ name: String, _ code: Int, _ title: String, typeName: String? = nil) -> StreamerElement {
        let (cppName, size) = basicTypes[code] ?? ("int", 4)
        return StreamerElement(kind: .basicType, name: name, title: title, type: code, size: size, typeName: typeName ?? cppName)
    }

    /// `T* name //[count]`: a basic array whose length is the member `count` of `countClass`.
    private static func pointerArray(_ name: String, _ code: Int, count: String, of countClass: String, version: Int,
                                     _ title: String) -> StreamerElement {
        let (cppName, size) = basicTypes[code] ?? ("int", 4)
        return StreamerElement(kind: .basicPointer, name: name, title: "[\(count)] \(title)", type: 40 + code, size: size,
                               typeName: cppName + "*", countVersion: version, countName: count, countClass: countClass)
    }

    private static func string(_ name: String, _ title: String) -> StreamerElement {
        StreamerElement(kind: .string, name: name, title: title, type: 65, size: 24, typeName: "TString")
    }

    /// A member object streamed inline with its own byte count (kObject).
    private static func object(_ name: String, _ typeName: String, size: Int, _ title: String) -> StreamerElement {
        StreamerElement(kind: .object, name: name, title: title, type: 61, size: size, typeName: typeName)
    }

    /// A member of a class with a custom streamer (TArrayD, TIOFeatures), written inline (kAny).
    private static func any(_ name: String, _ typeName: String, size: Int, _ title: String) -> StreamerElement {
        StreamerElement(kind: .objectAny, name: name, title: title, type: 62, size: size, typeName: typeName)
    }

    /// A pointer member: `->` (never null, inline, kObjectp 63) or a nullable object pointer (kObjectP 64).
    private static func pointer(_ name: String, _ typeName: String, inline: Bool, _ title: String) -> StreamerElement {
        StreamerElement(kind: .objectPointer, name: name, title: inline ? "->" + title : title, type: inline ? 63 : 64, size: 8,
                        typeName: typeName + "*")
    }

    // MARK: classes (bases before the classes that use them)

    private static let histogramStorage: [(letter: String, code: Int, what: String)] = [
        ("C", 1, "chars"), ("S", 2, "shorts"), ("I", 3, "ints"), ("F", 5, "floats"), ("D", 8, "doubles"),
    ]

    private static let descriptions: [Description] = {
        var all: [Description] = [
            Description(name: "TObject", version: 1, elements: [
                basic("fUniqueID", 13, "object unique identifier"), basic("fBits", 15, "bit field status word"),
            ]),
            Description(name: "TNamed", version: 1, elements: [
                base("TObject", "Basic ROOT object"), string("fName", "object identifier"), string("fTitle", "object title"),
            ]),
            Description(name: "TString", version: 2, elements: []),
            Description(name: "TObjString", version: 1, elements: [base("TObject", "Basic ROOT object"), string("fString", "wrapped TString")]),
            Description(name: "TCollection", version: 3, elements: [
                base("TObject", "Basic ROOT object"), string("fName", "name of the collection"),
                basic("fSize", 3, "number of elements in collection"),
            ]),
            Description(name: "TSeqCollection", version: 0, elements: [base("TCollection", "Collection abstract base class")],
                        checksum: 0xFC6C_3BC6),
            Description(name: "TList", version: 5, elements: [base("TSeqCollection", "Sequenceable collection ABC")]),
            Description(name: "THashList", version: 0, elements: [base("TList", "Doubly linked list")], checksum: 0xCC7E_49C1),
            Description(name: "TObjArray", version: 3, elements: [
                base("TSeqCollection", "Sequenceable collection ABC"), basic("fLowerBound", 3, "Lower bound of the array"),
                basic("fLast", 3, "Last element in array containing an object"),
            ]),
            Description(name: "TAttLine", version: 2, elements: [
                basic("fLineColor", 2, "Line color"), basic("fLineStyle", 2, "Line style"), basic("fLineWidth", 2, "Line width"),
            ]),
            Description(name: "TAttFill", version: 2, elements: [basic("fFillColor", 2, "Fill area color"), basic("fFillStyle", 2, "Fill area style")]),
            Description(name: "TAttMarker", version: 2, elements: [
                basic("fMarkerColor", 2, "Marker color"), basic("fMarkerStyle", 2, "Marker style"), basic("fMarkerSize", 5, "Marker size"),
            ]),
            Description(name: "TAtt3D", version: 1, elements: []),
            Description(name: "TAttAxis", version: 4, elements: [
                basic("fNdivisions", 3, "Number of divisions(10000*n3 + 100*n2 + n1)"), basic("fAxisColor", 2, "Color of the line axis"),
                basic("fLabelColor", 2, "Color of labels"), basic("fLabelFont", 2, "Font for labels"),
                basic("fLabelOffset", 5, "Offset of labels"), basic("fLabelSize", 5, "Size of labels"),
                basic("fTickLength", 5, "Length of tick marks"), basic("fTitleOffset", 5, "Offset of axis title"),
                basic("fTitleSize", 5, "Size of axis title"), basic("fTitleColor", 2, "Color of axis title"),
                basic("fTitleFont", 2, "Font for axis title"),
            ]),
            Description(name: "TArray", version: 1, elements: [basic("fN", 6, "Number of array elements")]),
        ]
        for storage in histogramStorage {
            all.append(Description(name: "TArray" + storage.letter, version: 1, elements: [
                base("TArray", "Abstract array base class"),
                pointerArray("fArray", storage.code, count: "fN", of: "TArray", version: 1, "Array of fN \(storage.what)"),
            ]))
        }
        all += [
            Description(name: "TAxis", version: 10, elements: [
                base("TNamed", "The basis for a named object (name, title)"), base("TAttAxis", "Axis attributes"),
                basic("fNbins", 3, "Number of bins"), basic("fXmin", 8, "low edge of first bin"), basic("fXmax", 8, "upper edge of last bin"),
                any("fXbins", "TArrayD", size: 24, "Bin edges array in X"), basic("fFirst", 3, "first bin to display"),
                basic("fLast", 3, "last bin to display"), basic("fBits2", 12, "second bit status word"),
                basic("fTimeDisplay", 18, "on/off displaying time values instead of numerics"),
                string("fTimeFormat", "Date&time format"), pointer("fLabels", "THashList", inline: false, "List of labels"),
                pointer("fModLabs", "TList", inline: false, "List of modified labels"),
            ]),
            Description(name: "TH1", version: 8, elements: [
                base("TNamed", "The basis for a named object (name, title)"), base("TAttLine", "Line attributes"),
                base("TAttFill", "Fill area attributes"), base("TAttMarker", "Marker attributes"),
                basic("fNcells", 3, "number of bins(1D), cells (2D) +U/Overflows"),
                object("fXaxis", "TAxis", size: 216, "X axis descriptor"), object("fYaxis", "TAxis", size: 216, "Y axis descriptor"),
                object("fZaxis", "TAxis", size: 216, "Z axis descriptor"),
                basic("fBarOffset", 2, "(1000*offset) for bar charts or legos"), basic("fBarWidth", 2, "(1000*width) for bar charts or legos"),
                basic("fEntries", 8, "Number of entries"), basic("fTsumw", 8, "Total Sum of weights"),
                basic("fTsumw2", 8, "Total Sum of squares of weights"), basic("fTsumwx", 8, "Total Sum of weight*X"),
                basic("fTsumwx2", 8, "Total Sum of weight*X*X"), basic("fMaximum", 8, "Maximum value for plotting"),
                basic("fMinimum", 8, "Minimum value for plotting"), basic("fNormFactor", 8, "Normalization factor"),
                any("fContour", "TArrayD", size: 24, "Array to display contour levels"),
                any("fSumw2", "TArrayD", size: 24, "Array of sum of squares of weights"), string("fOption", "histogram options"),
                pointer("fFunctions", "TList", inline: true, "Pointer to list of functions (fits and user)"),
                basic("fBufferSize", 6, "fBuffer size"),
                pointerArray("fBuffer", 8, count: "fBufferSize", of: "TH1", version: 8, "entry buffer"),
                basic("fBinStatErrOpt", 3, "option for bin statistical errors", typeName: "TH1::EBinErrorOpt"),
                basic("fStatOverflows", 3, "per object flag to use under/overflows in statistics", typeName: "TH1::EStatOverflows"),
            ]),
            Description(name: "TH2", version: 5, elements: [
                base("TH1", "1-Dim histogram base class"), basic("fScalefactor", 8, "Scale factor"),
                basic("fTsumwy", 8, "Total Sum of weight*Y"), basic("fTsumwy2", 8, "Total Sum of weight*Y*Y"),
                basic("fTsumwxy", 8, "Total Sum of weight*X*Y"),
            ]),
            Description(name: "TH3", version: 6, elements: [
                base("TH1", "1-Dim histogram base class"), base("TAtt3D", "3D attributes"),
                basic("fTsumwy", 8, "Total Sum of weight*Y"), basic("fTsumwy2", 8, "Total Sum of weight*Y*Y"),
                basic("fTsumwxy", 8, "Total Sum of weight*X*Y"), basic("fTsumwz", 8, "Total Sum of weight*Z"),
                basic("fTsumwz2", 8, "Total Sum of weight*Z*Z"), basic("fTsumwxz", 8, "Total Sum of weight*X*Z"),
                basic("fTsumwyz", 8, "Total Sum of weight*Y*Z"),
            ]),
        ]
        for (dimension, version) in [(1, 3), (2, 4), (3, 4)] {
            for storage in histogramStorage {
                all.append(Description(name: "TH\(dimension)\(storage.letter)", version: version, elements: [
                    base("TH\(dimension)", "\(dimension)-Dim histogram base class"), base("TArray" + storage.letter, "Array of \(storage.what)"),
                ]))
            }
        }
        // Profiles: TH1D/TH2D/TH3D plus per-bin entries, the error option and the value-axis sums.
        for (dimension, axis, version) in [(1, "Y", 7), (2, "Z", 8), (3, "T", 8)] {
            let entriesTitle = dimension == 1 ? "number of entries per bin" : "Number of entries per bin"
            all.append(Description(name: dimension == 1 ? "TProfile" : "TProfile\(dimension)D", version: version, elements: [
                base("TH\(dimension)D", "\(dimension)-Dim histograms (one double per channel)"),
                any("fBinEntries", "TArrayD", size: 24, entriesTitle), basic("fErrorMode", 3, "Option to compute errors", typeName: "EErrorType"),
                basic("f\(axis)min", 8, "Lower limit in \(axis) (if set)"), basic("f\(axis)max", 8, "Upper limit in \(axis) (if set)"),
                basic("fTsumw\(axis.lowercased())", 8, "Total Sum of weight*\(axis)"),
                basic("fTsumw\(axis.lowercased())2", 8, "Total Sum of weight*\(axis)*\(axis)"),
                any("fBinSumw2", "TArrayD", size: 24, "Array of sum of squares of weights per bin"),
            ]))
        }
        all += [
            Description(name: "ROOT::TIOFeatures", version: 1, elements: [basic("fIOBits", 11, "")]),
            Description(name: "TLeaf", version: 2, elements: [
                base("TNamed", "The basis for a named object (name, title)"), basic("fLen", 3, "Number of fixed length elements"),
                basic("fLenType", 3, "Number of bytes for this data type"), basic("fOffset", 3, "Offset in ClonesArray object (if one)"),
                basic("fIsRange", 18, "(=kTRUE if leaf has a range, kFALSE otherwise)"),
                basic("fIsUnsigned", 18, "(=kTRUE if unsigned, kFALSE otherwise)"),
                pointer("fLeafCount", "TLeaf", inline: false, "Pointer to Leaf count if variable length (we do not own the counter)"),
            ]),
        ]
        for (letter, code) in [("O", 18), ("B", 1), ("S", 2), ("I", 3), ("L", 16), ("F", 5), ("D", 8), ("C", 3)] {
            all.append(Description(name: "TLeaf" + letter, version: 1, elements: [
                base("TLeaf", "Leaf: description of a Branch data type"),
                basic("fMinimum", code, "Minimum value if leaf range is specified"),
                basic("fMaximum", code, "Maximum value if leaf range is specified"),
            ]))
        }
        all += [
            Description(name: "TBranch", version: 13, elements: [
                base("TNamed", "The basis for a named object (name, title)"), base("TAttFill", "Fill area attributes"),
                basic("fCompress", 3, "Compression level and algorithm"), basic("fBasketSize", 3, "Initial Size of  Basket Buffer"),
                basic("fEntryOffsetLen", 3, "Initial Length of fEntryOffset table in the basket buffers"),
                basic("fWriteBasket", 3, "Last basket number written"),
                basic("fEntryNumber", 16, "Current entry number (last one filled in this branch)"),
                any("fIOFeatures", "ROOT::TIOFeatures", size: 1, "IO features for newly-created baskets."),
                basic("fOffset", 3, "Offset of this branch"), basic("fMaxBaskets", 6, "Maximum number of Baskets so far"),
                basic("fSplitLevel", 3, "Branch split level"), basic("fEntries", 16, "Number of entries"),
                basic("fFirstEntry", 16, "Number of the first entry in this branch"),
                basic("fTotBytes", 16, "Total number of bytes in all leaves before compression"),
                basic("fZipBytes", 16, "Total number of bytes in all leaves after compression"),
                object("fBranches", "TObjArray", size: 64, "-> List of Branches of this branch"),
                object("fLeaves", "TObjArray", size: 64, "-> List of leaves of this branch"),
                object("fBaskets", "TObjArray", size: 64, "-> List of baskets of this branch"),
                pointerArray("fBasketBytes", 3, count: "fMaxBaskets", of: "TBranch", version: 13, "Length of baskets on file"),
                pointerArray("fBasketEntry", 16, count: "fMaxBaskets", of: "TBranch", version: 13, "Table of first entry in each basket"),
                pointerArray("fBasketSeek", 16, count: "fMaxBaskets", of: "TBranch", version: 13, "Addresses of baskets on file"),
                string("fFileName", "Name of file where buffers are stored (\"\" if in same file as Tree header)"),
            ]),
            Description(name: "TTree", version: 20, elements: [
                base("TNamed", "The basis for a named object (name, title)"), base("TAttLine", "Line attributes"),
                base("TAttFill", "Fill area attributes"), base("TAttMarker", "Marker attributes"),
                basic("fEntries", 16, "Number of entries"),
                basic("fTotBytes", 16, "Total number of bytes in all branches before compression"),
                basic("fZipBytes", 16, "Total number of bytes in all branches after compression"),
                basic("fSavedBytes", 16, "Number of autosaved bytes"), basic("fFlushedBytes", 16, "Number of auto-flushed bytes"),
                basic("fWeight", 8, "Tree weight (see TTree::SetWeight)"), basic("fTimerInterval", 3, "Timer interval in milliseconds"),
                basic("fScanField", 3, "Number of runs before prompting in Scan"), basic("fUpdate", 3, "Update frequency for EntryLoop"),
                basic("fDefaultEntryOffsetLen", 3, "Initial Length of fEntryOffset table in the basket buffers"),
                basic("fNClusterRange", 6, "Number of Cluster range in addition to the one defined by 'AutoFlush'"),
                basic("fMaxEntries", 16, "Maximum number of entries in case of circular buffers"),
                basic("fMaxEntryLoop", 16, "Maximum number of entries to process"),
                basic("fMaxVirtualSize", 16, "Maximum total size of buffers kept in memory"),
                basic("fAutoSave", 16, "Autosave tree when fAutoSave entries written or -fAutoSave (compressed) bytes produced"),
                basic("fAutoFlush", 16, "Auto-flush tree when fAutoFlush entries written or -fAutoFlush (compressed) bytes produced"),
                basic("fEstimate", 16, "Number of entries to estimate histogram limits"),
                pointerArray("fClusterRangeEnd", 16, count: "fNClusterRange", of: "TTree", version: 20, "Last entry of a cluster range."),
                pointerArray("fClusterSize", 16, count: "fNClusterRange", of: "TTree", version: 20,
                             "Number of entries in each cluster for a given range."),
                any("fIOFeatures", "ROOT::TIOFeatures", size: 1, "IO features to define for newly-written baskets and branches."),
                object("fBranches", "TObjArray", size: 64, "List of Branches"),
                object("fLeaves", "TObjArray", size: 64, "Direct pointers to individual branch leaves"),
                pointer("fAliases", "TList", inline: false, "List of aliases for expressions based on the tree branches."),
                any("fIndexValues", "TArrayD", size: 24, "Sorted index values"), any("fIndex", "TArrayI", size: 24, "Index of sorted values"),
                pointer("fTreeIndex", "TVirtualIndex", inline: false, "Pointer to the tree Index (if any)"),
                pointer("fFriends", "TList", inline: false, "pointer to list of friend elements"),
                pointer("fUserInfo", "TList", inline: false, "pointer to a list of user objects associated to this Tree"),
                pointer("fBranchRef", "TBranchRef", inline: false, "Branch supporting the TRefTable (if any)"),
            ]),
        ]
        return all
    }()
}
