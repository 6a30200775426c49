import Foundation

/// The numbers of the XRootD wire protocol this client speaks (XRootD protocol specification,
/// XProtocol.hh): every request is a 24-byte header (stream id, request id, 16 bytes of
/// parameters, payload length) plus a payload; every response an 8-byte header (stream id,
/// status, body length) plus a body. All integers are big-endian.
enum XRootDProtocol {
    /// The 20-byte opening message: 0, 0, 0, 4, 2012 as 32-bit integers.
    static let handshake: [UInt8] = {
        var bytes: [UInt8] = []
        for value: Int32 in [0, 0, 0, 4, 2012] { bytes.appendBigEndian(value) }
        return bytes
    }()
    /// The protocol version announced in kXR_protocol (3.1.0: the request layout without the
    /// TLS and signing negotiation of 5.x, which every 4.x/5.x server still accepts).
    static let clientProtocolVersion: Int32 = 0x0000_0310
    /// kXR_login's capver: protocol generation 4 clients, without asynchronous capabilities.
    static let loginCapabilityVersion: UInt8 = 4

    static let maxReadvElements = 1024
    /// The largest single element of a kXR_readv (2 MiB less the 16-byte element header).
    static let maxReadvElementLength = 2_097_136
    /// The most bytes this client asks for in one kXR_read or one kXR_readv.
    static let maxRequestBytes = 8 << 20
    /// Frames larger than this are refused as malformed instead of being buffered.
    static let maxFrameBytes = 256 << 20

    enum Request: UInt16 {
        case auth = 3000, close = 3003, dirlist = 3004, protocolVersion = 3006, login = 3007
        case open = 3010, read = 3013, stat = 3017, readv = 3025
    }

    enum Status: UInt16 {
        case ok = 0, oksofar = 4000, attn = 4001, authmore = 4002, error = 4003
        case redirect = 4004, wait = 4005, waitresp = 4006
    }

    /// kXR_attn action carrying the deferred answer to a request that got kXR_waitresp.
    static let attnAsyncResponse: Int32 = 5008

    enum OpenOption {
        static let read: UInt16 = 0x0010
        static let returnStat: UInt16 = 0x0400
    }

    enum DirlistOption {
        static let withStat: UInt8 = 0x02
    }

    enum StatFlag {
        static let isDirectory = 2
        static let other = 4
        static let offline = 8
    }

    /// kXR error numbers (3000…3035) by name, for messages a user can look up.
    static func errorName(_ code: Int) -> String {
        let names = [
            "kXR_ArgInvalid", "kXR_ArgMissing", "kXR_ArgTooLong", "kXR_FileLocked", "kXR_FileNotOpen", "kXR_FSError",
            "kXR_InvalidRequest", "kXR_IOError", "kXR_NoMemory", "kXR_NoSpace", "kXR_NotAuthorized", "kXR_NotFound",
            "kXR_ServerError", "kXR_Unsupported", "kXR_noserver", "kXR_NotFile", "kXR_isDirectory", "kXR_Cancelled",
            "kXR_ItExists", "kXR_ChkSumErr", "kXR_inProgress", "kXR_overQuota", "kXR_SigVerErr", "kXR_DecryptErr",
            "kXR_Overloaded", "kXR_fsReadOnly", "kXR_BadPayload", "kXR_AttrNotFound", "kXR_TLSRequired", "kXR_noReplicas",
            "kXR_AuthFailed", "kXR_Impossible", "kXR_Conflict", "kXR_TooManyErrs", "kXR_ReqTimedOut", "kXR_TimerExpired",
        ]
        let index = code - 3000
        return names.indices.contains(index) ? names[index] : "unknown error"
    }
}

/// One request: the 16 parameter bytes of its header and its payload.
struct XRootDRequest: Sendable {
    var code: XRootDProtocol.Request
    var parameters: [UInt8]
    var payload: [UInt8]

    init(_ code: XRootDProtocol.Request, parameters: [UInt8] = [], payload: [UInt8] = []) {
        precondition(parameters.count <= 16, "request parameters are 16 bytes")
        self.code = code
        self.parameters = parameters + [UInt8](repeating: 0, count: 16 - parameters.count)
        self.payload = payload
    }

    /// The bytes on the wire for stream `streamID`.
    func encoded(streamID: UInt16) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(24 + payload.count)
        bytes.appendBigEndian(streamID)
        bytes.appendBigEndian(code.rawValue)
        bytes += parameters
        bytes.appendBigEndian(Int32(payload.count))
        bytes += payload
        return bytes
    }

    static func protocolVersion() -> XRootDRequest {
        var parameters: [UInt8] = []
        parameters.appendBigEndian(XRootDProtocol.clientProtocolVersion)
        return XRootDRequest(.protocolVersion, parameters: parameters)
    }

    static func login(user: String) -> XRootDRequest {
        var parameters: [UInt8] = []
        parameters.appendBigEndian(Int32(truncatingIfNeeded: getpid()))
        let name = Array(user.utf8.prefix(8))
        parameters += name + [UInt8](repeating: 0, count: 8 - name.count)
        parameters += [0, 0, XRootDProtocol.loginCapabilityVersion, 0]  // reserved, ability, capver, role
        return XRootDRequest(.login, parameters: parameters)
    }

    /// kXR_auth with the 'unix' protocol: "unix\0" then "user group\0" (what the server's unix
    /// security plug-in reads as the client's identity; nothing is verified cryptographically).
    static func unixAuthentication(user: String, group: String) -> XRootDRequest {
        var parameters = [UInt8](repeating: 0, count: 12)
        parameters += Array("unix".utf8)
        let credentials = Array("unix".utf8) + [0] + Array("\(user) \(group)".utf8) + [0]
        return XRootDRequest(.auth, parameters: parameters, payload: credentials)
    }

    static func open(path: String) -> XRootDRequest {
        var parameters: [UInt8] = []
        parameters.appendBigEndian(UInt16(0))
        parameters.appendBigEndian(XRootDProtocol.OpenOption.read | XRootDProtocol.OpenOption.returnStat)
        return XRootDRequest(.open, parameters: parameters, payload: Array(path.utf8))
    }

    static func read(handle: [UInt8], offset: Int, count: Int) -> XRootDRequest {
        var parameters = handle
        parameters.appendBigEndian(Int64(offset))
        parameters.appendBigEndian(Int32(count))
        return XRootDRequest(.read, parameters: parameters)
    }

    static func readv(handle: [UInt8], ranges: [(offset: Int, count: Int)]) -> XRootDRequest {
        var payload: [UInt8] = []
        payload.reserveCapacity(16 * ranges.count)
        for range in ranges {
            payload += handle
            payload.appendBigEndian(Int32(range.count))
            payload.appendBigEndian(Int64(range.offset))
        }
        return XRootDRequest(.readv, payload: payload)
    }

    static func stat(path: String) -> XRootDRequest {
        XRootDRequest(.stat, payload: Array(path.utf8))
    }

    static func dirlist(path: String) -> XRootDRequest {
        var parameters = [UInt8](repeating: 0, count: 15)
        parameters.append(XRootDProtocol.DirlistOption.withStat)
        return XRootDRequest(.dirlist, parameters: parameters, payload: Array(path.utf8))
    }

    static func close(handle: [UInt8]) -> XRootDRequest {
        XRootDRequest(.close, parameters: handle)
    }
}

/// The final answer to one request (partial kXR_oksofar bodies already joined).
struct XRootDResponse: Sendable {
    var status: XRootDProtocol.Status
    var body: [UInt8]

    /// kXR_error: (code, message).
    var error: (code: Int, message: String) {
        guard body.count >= 4 else { return (0, "error response without a code") }
        return (Int(body.readBigEndianInt32(at: 0)), body[4...].nulTerminatedString)
    }

    /// kXR_wait: seconds to wait before sending the request again.
    var waitSeconds: Int {
        body.count >= 4 ? max(0, Int(body.readBigEndianInt32(at: 0))) : 1
    }
}

/// The fields of a kXR_stat answer ("id size flags modtime").
struct XRootDStat: Sendable {
    var size: Int
    var flags: Int
    var isDirectory: Bool { flags & XRootDProtocol.StatFlag.isDirectory != 0 }

    init?(_ text: some StringProtocol) {
        let fields = text.split(separator: " ", omittingEmptySubsequences: true)
        guard fields.count >= 3, let size = Int(fields[1]), size >= 0, let flags = Int(fields[2]) else { return nil }
        self.size = size
        self.flags = flags
    }
}

extension Array where Element == UInt8 {
    mutating func appendBigEndian<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.bigEndian) { append(contentsOf: $0) }
    }

    /// The caller checks `offset + 4 <= count`.
    func readBigEndianInt32(at offset: Int) -> Int32 {
        var value: UInt32 = 0
        for index in offset..<(offset + 4) { value = value << 8 | UInt32(self[index]) }
        return Int32(bitPattern: value)
    }

    func readBigEndianInt64(at offset: Int) -> Int64 {
        var value: UInt64 = 0
        for index in offset..<(offset + 8) { value = value << 8 | UInt64(self[index]) }
        return Int64(bitPattern: value)
    }
}

extension ArraySlice where Element == UInt8 {
    /// The text up to the first NUL (or the end), decoded leniently.
    var nulTerminatedString: String {
        let end = firstIndex(of: 0) ?? endIndex
        return String(decoding: self[startIndex..<end], as: UTF8.self)
    }
}
