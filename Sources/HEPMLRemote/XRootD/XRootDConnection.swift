import Foundation
import NIOCore
import NIOPosix

/// Why a request got no answer on its connection (mapped to `RemoteError` with the file's URL by
/// the client, which alone knows it).
enum XRootDTransportError: Error {
    case connectionLost(String)
    case timeout(seconds: Double)
    case malformed(String)
}

/// One response frame as it arrives: the stream it answers, its status, its body.
struct XRootDFrame {
    var streamID: UInt16
    var status: UInt16
    var body: ByteBuffer
}

/// Cuts the byte stream into response frames (8-byte header + body).
final class XRootDFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = XRootDFrame

    func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let length = buffer.getInteger(at: buffer.readerIndex + 4, as: Int32.self) else { return .needMoreData }
        guard length >= 0, Int(length) <= XRootDProtocol.maxFrameBytes else {
            throw XRootDTransportError.malformed("response body of \(length) bytes")
        }
        guard buffer.readableBytes >= 8 + Int(length),
              let streamID = buffer.readInteger(as: UInt16.self),
              let status = buffer.readInteger(as: UInt16.self),
              buffer.readInteger(as: Int32.self) != nil,
              let body = buffer.readSlice(length: Int(length))
        else { return .needMoreData }
        context.fireChannelRead(wrapInboundOut(XRootDFrame(streamID: streamID, status: status, body: body)))
        return .continue
    }
}

/// Matches frames to the requests waiting on them. XRootD multiplexes: many requests are in flight
/// on one connection, each under its own stream id, and their answers arrive in any order, a long
/// read possibly in several kXR_oksofar parts. Runs on the channel's event loop only.
final class XRootDDispatcher: ChannelInboundHandler {
    typealias InboundIn = XRootDFrame

    private struct Waiting {
        var promise: EventLoopPromise<XRootDResponse>
        var received: ByteBuffer?
        var timeout: Scheduled<Void>?
    }

    private var waiting: [UInt16: Waiting] = [:]
    private var closedReason: String?
    private var nextStreamID: UInt16 = 1
    private weak var context: ChannelHandlerContext?
    private let timeout: TimeAmount

    init(timeout: TimeAmount) {
        self.timeout = timeout
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    /// Sends `bytes` (built for the stream id handed to `encode`) and answers with the final
    /// response; `streamID` fixes the id (the handshake answers on stream 0).
    func send(_ encode: (UInt16) -> [UInt8], streamID fixed: UInt16? = nil, promise: EventLoopPromise<XRootDResponse>) {
        guard let context, closedReason == nil else {
            promise.fail(XRootDTransportError.connectionLost(closedReason ?? "connection closed"))
            return
        }
        let streamID: UInt16
        if let fixed {
            streamID = fixed
        } else {
            guard waiting.count < Int(UInt16.max) - 1 else {
                promise.fail(XRootDTransportError.malformed("no free stream id"))
                return
            }
            while waiting[nextStreamID] != nil || nextStreamID == 0 { nextStreamID &+= 1 }
            streamID = nextStreamID
            nextStreamID &+= 1
        }
        waiting[streamID] = Waiting(promise: promise, received: nil, timeout: scheduleTimeout(streamID, after: timeout, context: context))
        let bytes = encode(streamID)
        var buffer = context.channel.allocator.buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        context.writeAndFlush(NIOAny(buffer), promise: nil)
    }

    private func scheduleTimeout(_ streamID: UInt16, after delay: TimeAmount, context: ChannelHandlerContext) -> Scheduled<Void> {
        let seconds = Double(delay.nanoseconds) / 1e9
        return context.eventLoop.scheduleTask(in: delay) { [weak self] in
            guard let self, let entry = self.waiting.removeValue(forKey: streamID) else { return }
            entry.promise.fail(XRootDTransportError.timeout(seconds: seconds))
            // A server that stalls one stream may stall all: start the next request afresh.
            self.failAll("an earlier request timed out after \(seconds) s")
            self.context?.close(promise: nil)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        deliver(unwrapInboundIn(data), context: context)
    }

    private func deliver(_ frame: XRootDFrame, context: ChannelHandlerContext) {
        var frame = frame
        if frame.status == XRootDProtocol.Status.attn.rawValue {
            // kXR_attn / kXR_asynresp: actnum, 4 reserved bytes, then a whole response for a stream
            // that was told kXR_waitresp.
            guard let action = frame.body.readInteger(as: Int32.self), action == XRootDProtocol.attnAsyncResponse,
                  frame.body.readSlice(length: 4) != nil,
                  let streamID = frame.body.readInteger(as: UInt16.self),
                  let status = frame.body.readInteger(as: UInt16.self),
                  let length = frame.body.readInteger(as: Int32.self), length >= 0,
                  let body = frame.body.readSlice(length: Int(length))
            else { return }  // other attention messages (server messages, disconnect notices) carry no answer
            deliver(XRootDFrame(streamID: streamID, status: status, body: body), context: context)
            return
        }
        guard var entry = waiting[frame.streamID] else { return }  // answer to a request that already timed out
        entry.timeout?.cancel()
        guard let status = XRootDProtocol.Status(rawValue: frame.status) else {
            waiting[frame.streamID] = nil
            entry.promise.fail(XRootDTransportError.malformed("unknown response status \(frame.status)"))
            return
        }
        switch status {
        case .oksofar:
            if entry.received == nil { entry.received = frame.body } else { entry.received?.writeBuffer(&frame.body) }
            entry.timeout = scheduleTimeout(frame.streamID, after: timeout, context: context)
            waiting[frame.streamID] = entry
        case .waitresp:
            // The answer comes later as kXR_attn; allow the announced wait on top of the timeout.
            let seconds = frame.body.getInteger(at: frame.body.readerIndex, as: Int32.self).map { Int64(max(0, $0)) } ?? 0
            entry.timeout = scheduleTimeout(frame.streamID, after: timeout + .seconds(seconds), context: context)
            waiting[frame.streamID] = entry
        default:
            waiting[frame.streamID] = nil
            var body = frame.body
            if var received = entry.received {
                received.writeBuffer(&body)
                body = received
            }
            entry.promise.succeed(XRootDResponse(status: status, body: Array(body.readableBytesView)))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll("the server closed the connection")
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        failAll(String(describing: error))
        context.close(promise: nil)
    }

    private func failAll(_ reason: String) {
        if closedReason == nil { closedReason = reason }
        let entries = waiting
        waiting.removeAll()
        for entry in entries.values {
            entry.timeout?.cancel()
            entry.promise.fail(XRootDTransportError.connectionLost(reason))
        }
    }
}

/// One logged-in connection to one XRootD server, shared by every file open on that server.
final class XRootDConnection: @unchecked Sendable {
    let server: XRootDServer
    private let channel: Channel
    private let dispatcher: XRootDDispatcher

    private init(server: XRootDServer, channel: Channel, dispatcher: XRootDDispatcher) {
        self.server = server
        self.channel = channel
        self.dispatcher = dispatcher
    }

    var isActive: Bool { channel.isActive }

    /// Sends one request; the future holds the final answer (ok, error, redirect, wait, authmore).
    func send(_ request: XRootDRequest) -> EventLoopFuture<XRootDResponse> {
        let promise = channel.eventLoop.makePromise(of: XRootDResponse.self)
        let dispatcher = self.dispatcher
        channel.eventLoop.execute {
            dispatcher.send({ request.encoded(streamID: $0) }, promise: promise)
        }
        return promise.futureResult
    }

    func close() {
        channel.close(promise: nil)
    }

    /// Connects, shakes hands, logs in, and authenticates when the server asks for it.
    /// Blocking: called from worker threads, never from an event loop.
    static func open(server: XRootDServer, user: String?, settings: RemoteSettings, group: EventLoopGroup) throws -> XRootDConnection {
        let timeout = TimeAmount.nanoseconds(Int64(settings.timeoutSeconds * 1e9))
        let dispatcher = XRootDDispatcher(timeout: timeout)
        let channel: Channel
        do {
            channel = try ClientBootstrap(group: group)
                .connectTimeout(timeout)
                .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(XRootDFrameDecoder()))
                        try channel.pipeline.syncOperations.addHandler(dispatcher)
                    }
                }
                .connect(host: server.host, port: server.port)
                .wait()
        } catch let error as ChannelError {
            if case .connectTimeout = error { throw XRootDTransportError.timeout(seconds: settings.timeoutSeconds) }
            throw XRootDTransportError.connectionLost("cannot connect: \(error)")
        } catch {
            throw XRootDTransportError.connectionLost("cannot connect: \(error)")
        }
        let connection = XRootDConnection(server: server, channel: channel, dispatcher: dispatcher)
        do {
            try connection.startSession(user: user)
        } catch {
            connection.close()
            throw error
        }
        return connection
    }

    /// The handshake (answered on stream 0) and kXR_protocol go out together, then kXR_login and,
    /// if the login answer lists security protocols, kXR_auth with 'unix'.
    private func startSession(user: String?) throws {
        let handshake = channel.eventLoop.makePromise(of: XRootDResponse.self)
        let dispatcher = self.dispatcher
        channel.eventLoop.execute { dispatcher.send({ _ in XRootDProtocol.handshake }, streamID: 0, promise: handshake) }
        let protocolAnswer = send(.protocolVersion())
        let shake = try handshake.futureResult.wait()
        guard shake.status == .ok, shake.body.count >= 8 else {
            throw XRootDTransportError.malformed("not an XRootD server (handshake answer of \(shake.body.count) bytes)")
        }
        let version = try protocolAnswer.wait()
        guard version.status == .ok else { throw XRootDSessionError.rejected("kXR_protocol", version) }

        let identity = LocalIdentity.current
        let login = try send(.login(user: user ?? identity.user)).wait()
        guard login.status == .ok else { throw XRootDSessionError.rejected("kXR_login", login) }
        guard login.body.count > 16 else { return }  // no security section: anonymous access
        let offered = Self.securityProtocols(String(decoding: login.body[16...], as: UTF8.self))
        guard !offered.isEmpty else { return }
        guard offered.contains("unix") else { throw XRootDSessionError.unsupportedAuthentication(offered) }
        let auth = try send(.unixAuthentication(user: identity.user, group: identity.group)).wait()
        guard auth.status == .ok else { throw XRootDSessionError.rejected("kXR_auth (unix)", auth) }
    }

    /// The protocol names of a login answer's security section: "&P=unix&P=gsi,v:10400,…".
    static func securityProtocols(_ text: String) -> [String] {
        text.components(separatedBy: "&P=").dropFirst().compactMap { entry in
            let name = entry.split(whereSeparator: { $0 == "," || $0 == "&" || $0 == "\0" }).first.map(String.init)
            return name?.isEmpty == false ? name : nil
        }
    }
}

/// Session set-up failures that the client turns into `RemoteError`s naming the file.
enum XRootDSessionError: Error {
    case rejected(String, XRootDResponse)
    case unsupportedAuthentication([String])
}

/// The effective user and group names, sent by 'unix' authentication and in kXR_login.
struct LocalIdentity {
    var user: String
    var group: String

    static let current: LocalIdentity = {
        var user = ProcessInfo.processInfo.environment["USER"] ?? "hepml"
        if let entry = getpwuid(geteuid()), let name = entry.pointee.pw_name { user = String(cString: name) }
        var group = "nogroup"
        if let entry = getgrgid(getegid()), let name = entry.pointee.gr_name { group = String(cString: name) }
        return LocalIdentity(user: user, group: group)
    }()
}
