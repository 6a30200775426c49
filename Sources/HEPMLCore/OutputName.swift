/// File names derived from input data (primary dataset names, histogram paths, tags, model and
/// run names): whatever a configuration or a file says, the name is one path component, so
/// the output stays inside the output directory the user chose.
public enum OutputName {
    /// The longest name in UTF-8 bytes: under the usual 255-byte limit of file systems, with room
    /// for an extension and `AtomicFile`'s temporary suffix.
    public static let maximumBytes = 180

    /// `raw` as one file name, followed by `.extension` when given. `/`, `\`, NUL and other
    /// control characters become `_`; an empty name, `.`, `..` and names starting with `.`
    /// (hidden files) get a leading `_`; a name over `maximumBytes` is cut and ends in a hash of
    /// the whole name, so that two long names that share a beginning stay two files.
    public static func component(_ raw: String, extension fileExtension: String? = nil) -> String {
        var name = String(String.UnicodeScalarView(raw.unicodeScalars.map { scalar in
            scalar == "/" || scalar == "\\" || scalar.properties.generalCategory == .control ? "_" : scalar
        }))
        if name.isEmpty || name.hasPrefix(".") { name = "_" + name }
        if name.utf8.count > maximumBytes {
            let hash = "-" + String(fnv1a(raw.utf8), radix: 16)
            var cut = ""
            for character in name {
                guard cut.utf8.count + character.utf8.count + hash.utf8.count <= maximumBytes else { break }
                cut.append(character)
            }
            name = cut + hash
        }
        return fileExtension.map { name + "." + $0 } ?? name
    }

    /// 64-bit FNV-1a: a stable hash (Swift's `Hasher` is seeded per process).
    private static func fnv1a(_ bytes: String.UTF8View) -> UInt64 {
        bytes.reduce(0xcbf2_9ce4_8422_2325) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }
    }
}
