import Foundation
import Testing

/// Blocking loopback sockets for the fault-injecting servers below (each connection on a thread
/// of its own: the tests need a few connections, not throughput).
enum LoopbackSocket {
    /// A socket listening on a free port of 127.0.0.1.
    static func listen() throws -> (descriptor: Int32, port: Int) {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ready = descriptor >= 0 && withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, length) == 0 && Glibc.listen(descriptor, 16) == 0 && getsockname(descriptor, $0, &length) == 0
            }
        }
        guard ready else { throw LoopbackServers.ServerError.failed("cannot listen on 127.0.0.1: errno \(errno)") }
        return (descriptor, Int(UInt16(bigEndian: address.sin_port)))
    }

    static func connect(port: Int) -> Int32? {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        guard connected else { close(descriptor); return nil }
        return descriptor
    }

    /// Exactly `count` bytes, nil when the peer closed first.
    static func read(_ descriptor: Int32, count: Int) -> [UInt8]? {
        var bytes = [UInt8](repeating: 0, count: count)
        var received = 0
        while received < count {
            let got = bytes.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress.map { $0 + received }, count - received, 0) }
            guard got > 0 else { return nil }
            received += got
        }
        return bytes
    }

    /// One XRootD frame: a header whose last 4 bytes are the body's length (24 bytes for a
    /// request, 8 for a response), and the body; nil when the peer closed.
    static func readFrame(_ descriptor: Int32, headerCount: Int) -> (header: [UInt8], body: [UInt8])? {
        guard let header = read(descriptor, count: headerCount) else { return nil }
        let length = Int(bigEndian(header[(headerCount - 4)..<headerCount]) as Int32)
        guard length >= 0, let body = read(descriptor, count: length) else { return nil }
        return (header, body)
    }

    /// False when the peer is gone (no SIGPIPE).
    @discardableResult
    static func write(_ descriptor: Int32, _ bytes: some Collection<UInt8>) -> Bool {
        let bytes = Array(bytes)
        var sent = 0
        while sent < bytes.count {
            let written = bytes.withUnsafeBytes { send(descriptor, $0.baseAddress.map { $0 + sent }, bytes.count - sent, Int32(MSG_NOSIGNAL)) }
            guard written > 0 else { return false }
            sent += written
        }
        return true
    }

    /// Accepts connections on a thread until `descriptor` is shut down.
    static func acceptLoop(_ descriptor: Int32, _ handle: @escaping @Sendable (Int32) -> Void) {
        Thread {
            while true {
                let connection = accept(descriptor, nil, nil)
                guard connection >= 0 else { return }
                handle(connection)
            }
        }.start()
    }

    static func bigEndian<T: FixedWidthInteger>(_ bytes: ArraySlice<UInt8>) -> T {
        bytes.reduce(T.zero) { $0 << 8 | T($1) }
    }

    static func bytes<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        withUnsafeBytes(of: value.bigEndian) { Array($0) }
    }
}

/// The descriptors a fixture opened, closed (after a shutdown, which wakes blocked threads) when
/// it stops.
final class OpenDescriptors: @unchecked Sendable {
    private let lock = NSLock()
    private var descriptors: [Int32] = []

    func add(_ descriptor: Int32) {
        lock.lock()
        descriptors.append(descriptor)
        lock.unlock()
    }

    func closeAll() {
        lock.lock()
        for descriptor in descriptors {
            shutdown(descriptor, Int32(SHUT_RDWR))
            close(descriptor)
        }
        descriptors.removeAll()
        lock.unlock()
    }
}

/// Accepts connections and never answers (a hung server).
final class StallingServer {
    let port: Int
    private let open = OpenDescriptors()

    init() throws {
        let (listener, port) = try LoopbackSocket.listen()
        self.port = port
        open.add(listener)
        let open = self.open
        LoopbackSocket.acceptLoop(listener) { open.add($0) }
    }

    func stop() { open.closeAll() }
}

/// A TCP proxy in front of a real xrootd that reads the XRootD frames passing through and drops
/// the connection in the middle of every answer to a read of one file: the answer's header and
/// half its body reach the client, then both sides are closed — to the client, the server died
/// while sending that file. Everything else (listing, other files) passes unchanged.
final class XRootDCuttingProxy: @unchecked Sendable {
    let port: Int
    private let upstreamPort: Int
    private let fileName: String
    private let open = OpenDescriptors()
    private let lock = NSLock()
    private var cutCount = 0

    /// How often a read of the file was cut so far.
    var cuts: Int {
        lock.lock()
        defer { lock.unlock() }
        return cutCount
    }

    init(upstreamPort: Int, cuttingReadsOf fileName: String) throws {
        self.upstreamPort = upstreamPort
        self.fileName = fileName
        let (listener, port) = try LoopbackSocket.listen()
        self.port = port
        open.add(listener)
        LoopbackSocket.acceptLoop(listener) { [weak self] client in self?.relay(client) }
    }

    func stop() { open.closeAll() }

    /// What one connection has seen of the file: the streams of its open requests, its handles,
    /// the streams of reads of it.
    private final class Watch: @unchecked Sendable {
        let lock = NSLock()
        var openStreams = Set<UInt16>()
        var handles = Set<[UInt8]>()
        var readStreams = Set<UInt16>()
    }

    private func relay(_ client: Int32) {
        open.add(client)
        guard let server = LoopbackSocket.connect(port: upstreamPort) else { shutdown(client, Int32(SHUT_RDWR)); return }
        open.add(server)
        let watch = Watch()
        let fileName = Array(self.fileName.utf8)
        let hangUp = { shutdown(client, Int32(SHUT_RDWR)); shutdown(server, Int32(SHUT_RDWR)) }
        // Client to server: the 20-byte handshake, then requests (24-byte header, payload).
        Thread {
            defer { hangUp() }
            guard let handshake = LoopbackSocket.read(client, count: 20), LoopbackSocket.write(server, handshake) else { return }
            while let request = LoopbackSocket.readFrame(client, headerCount: 24) {
                let (header, payload) = request
                let stream: UInt16 = LoopbackSocket.bigEndian(header[0..<2])
                let request: UInt16 = LoopbackSocket.bigEndian(header[2..<4])
                watch.lock.lock()
                switch request {
                case 3010 where payload.firstRange(of: fileName) != nil: watch.openStreams.insert(stream)  // kXR_open
                case 3013 where watch.handles.contains(Array(header[4..<8])): watch.readStreams.insert(stream)  // kXR_read
                case 3025 where payload.count >= 4 && watch.handles.contains(Array(payload[0..<4])): watch.readStreams.insert(stream)  // kXR_readv
                default: break
                }
                watch.lock.unlock()
                guard LoopbackSocket.write(server, header + payload) else { return }
            }
        }.start()
        // Server to client: responses (8-byte header, body).
        Thread { [weak self] in
            defer { hangUp() }
            while let response = LoopbackSocket.readFrame(server, headerCount: 8) {
                let (header, body) = response
                let stream: UInt16 = LoopbackSocket.bigEndian(header[0..<2])
                let status: UInt16 = LoopbackSocket.bigEndian(header[2..<4])
                watch.lock.lock()
                if watch.openStreams.remove(stream) != nil, status == 0, body.count >= 4 { watch.handles.insert(Array(body[0..<4])) }
                let cut = watch.readStreams.contains(stream)
                watch.lock.unlock()
                if cut {
                    LoopbackSocket.write(client, header + body.prefix(body.count / 2))
                    self?.countCut()
                    return
                }
                guard LoopbackSocket.write(client, header + body) else { return }
            }
        }.start()
    }

    private func countCut() {
        lock.lock()
        cutCount += 1
        lock.unlock()
    }
}

/// A minimal XRootD server holding one file in memory, which makes the client wait before it
/// opens the file: the first kXR_open is answered with kXR_wait (`waitSeconds`), the second with
/// kXR_waitresp and, `deferral` later, the answer as an asynchronous kXR_attn response; reads
/// and close are then served. It records the requests it got, in order.
final class WaitingXRootDServer: @unchecked Sendable {
    let port: Int
    let waitSeconds: Int32
    let deferral: Double
    private let content: [UInt8]
    private let open = OpenDescriptors()
    private let lock = NSLock()
    private var log: [String] = []
    private var opens = 0

    /// The requests received so far ("protocol", "login", "open", "read", "close").
    var requests: [String] {
        lock.lock()
        defer { lock.unlock() }
        return log
    }

    init(content: [UInt8], waitSeconds: Int32 = 1, deferral: Double = 0.3) throws {
        self.content = content
        self.waitSeconds = waitSeconds
        self.deferral = deferral
        let (listener, port) = try LoopbackSocket.listen()
        self.port = port
        open.add(listener)
        LoopbackSocket.acceptLoop(listener) { [weak self] client in
            guard let self else { return }
            open.add(client)
            Thread { self.serve(client) }.start()
        }
    }

    func stop() { open.closeAll() }

    private static let handle: [UInt8] = [0, 0, 0, 7]

    private static func frame(stream: [UInt8], status: UInt16, body: [UInt8]) -> [UInt8] {
        stream + LoopbackSocket.bytes(status) + LoopbackSocket.bytes(Int32(body.count)) + body
    }

    private func serve(_ client: Int32) {
        defer { shutdown(client, Int32(SHUT_RDWR)) }
        // The handshake's answer: protocol version and server type (data server).
        guard LoopbackSocket.read(client, count: 20) != nil,
              LoopbackSocket.write(client, Self.frame(stream: [0, 0], status: 0, body: LoopbackSocket.bytes(Int32(0x520)) + LoopbackSocket.bytes(Int32(1))))
        else { return }
        let writeLock = NSLock()
        let send = { (bytes: [UInt8]) -> Bool in
            writeLock.lock()
            defer { writeLock.unlock() }
            return LoopbackSocket.write(client, bytes)
        }
        while let request = LoopbackSocket.readFrame(client, headerCount: 24) {
            let header = request.header
            let stream = Array(header[0..<2])
            let request: UInt16 = LoopbackSocket.bigEndian(header[2..<4])
            let answer: [UInt8]
            switch request {
            case 3006:  // kXR_protocol: version and flags (data server)
                record("protocol")
                answer = Self.frame(stream: stream, status: 0, body: LoopbackSocket.bytes(Int32(0x520)) + LoopbackSocket.bytes(Int32(1)))
            case 3007:  // kXR_login: a 16-byte session id and no security section
                record("login")
                answer = Self.frame(stream: stream, status: 0, body: [UInt8](repeating: 1, count: 16))
            case 3010:
                record("open")
                let openAnswer = Self.handle + [UInt8](repeating: 0, count: 8) + Array("1 \(content.count) 0 0".utf8) + [0]
                switch nextOpen() {
                case 1:
                    answer = Self.frame(stream: stream, status: 4005, body: LoopbackSocket.bytes(waitSeconds))  // kXR_wait
                case 2:
                    answer = Self.frame(stream: stream, status: 4006, body: LoopbackSocket.bytes(Int32(5)))  // kXR_waitresp
                    // kXR_attn carrying kXR_asynresp (5008): 4 reserved bytes, then the whole answer.
                    let deferred = Self.frame(stream: [0, 0], status: 4001,
                                              body: LoopbackSocket.bytes(Int32(5008)) + [0, 0, 0, 0] + Self.frame(stream: stream, status: 0, body: openAnswer))
                    let deferral = self.deferral
                    Thread {
                        Thread.sleep(forTimeInterval: deferral)
                        _ = send(deferred)
                    }.start()
                default:
                    answer = Self.frame(stream: stream, status: 0, body: openAnswer)
                }
            case 3013:  // kXR_read: handle, offset, length
                record("read")
                let offset = Int(LoopbackSocket.bigEndian(header[8..<16]) as Int64)
                let count = Int(LoopbackSocket.bigEndian(header[16..<20]) as Int32)
                let start = min(max(offset, 0), content.count)
                answer = Self.frame(stream: stream, status: 0, body: Array(content[start..<min(content.count, start + max(count, 0))]))
            case 3003:
                record("close")
                answer = Self.frame(stream: stream, status: 0, body: [])
            default:
                record("request \(request)")
                answer = Self.frame(stream: stream, status: 4003, body: LoopbackSocket.bytes(Int32(3013)) + Array("unsupported".utf8) + [0])
            }
            guard send(answer) else { return }
        }
    }

    private func record(_ request: String) {
        lock.lock()
        log.append(request)
        lock.unlock()
    }

    private func nextOpen() -> Int {
        lock.lock()
        defer { lock.unlock() }
        opens += 1
        return opens
    }
}
