import Testing
@testable import HEPMLRemote

@Suite struct RemoteLocationTests {
    @Test func parsesXRootDURLs() throws {
        let url = try XRootDURL("root://eoscms.cern.ch//eos/cms/store/file.root")
        #expect(url.host == "eoscms.cern.ch")
        #expect(url.port == 1094)
        #expect(url.path == "/eos/cms/store/file.root")
        #expect(url.description == "root://eoscms.cern.ch//eos/cms/store/file.root")
        let withPort = try XRootDURL("root://user@127.0.0.1:21094//tmp/x.root?authz=abc")
        #expect(withPort.user == "user")
        #expect(withPort.port == 21094)
        #expect(withPort.opaque == "authz=abc")
        let ipv6 = try XRootDURL("xroot://[::1]:1095//data/")
        #expect(ipv6.host == "::1")
        #expect(ipv6.port == 1095)
        #expect(ipv6.path == "/data/")
    }

    @Test func rejectsMalformedURLs() {
        #expect(throws: RemoteError.self) { try XRootDURL("root://host") }
        #expect(throws: RemoteError.self) { try XRootDURL("root://host:99999//x") }
        #expect(throws: RemoteError.self) { try XRootDURL("root://:1094//x") }
        #expect(throws: RemoteError.self) { try RemoteLocation("s3://bucket/key") }
    }

    @Test func classifiesLocations() throws {
        #expect(try RemoteLocation("/tmp/a.root") == .local(path: "/tmp/a.root"))
        #expect(try RemoteLocation("davs://eoscms.cern.ch:443/eos/x.root") == .http(url: "https://eoscms.cern.ch:443/eos/x.root"))
        #expect(try RemoteLocation("https://h/x.root") == .http(url: "https://h/x.root"))
    }

    @Test func settingsComeFromTheEnvironment() {
        let settings = RemoteSettings.fromEnvironment(["HEPML_REMOTE_TIMEOUT": "2.5", "HEPML_REMOTE_RETRIES": "0",
                                                       "HEPML_REMOTE_REQUESTS_PER_HOST": "4", "HEPML_REMOTE_FILES_PER_HOST": "x"])
        #expect(settings == RemoteSettings(timeoutSeconds: 2.5, retries: 0, requestsPerHost: 4, filesPerHost: 8))
        #expect(RemoteSettings.fromEnvironment([:]) == RemoteSettings())
    }

    @Test func serverErrorsNameFileHostCodeAndText() {
        let error = RemoteError.server(url: "root://eos//a.root", host: "eos:1094", code: 3011, codeName: XRootDProtocol.errorName(3011),
                                       message: "no such file")
        #expect(error.description == "root://eos//a.root: server eos:1094 answered error 3011 (kXR_NotFound): no such file")
        #expect(XRootDProtocol.errorName(3028) == "kXR_TLSRequired")
        #expect(XRootDProtocol.errorName(4000) == "unknown error")
    }

    @Test func requestsHaveTheProtocolLayout() {
        let read = XRootDRequest.read(handle: [1, 2, 3, 4], offset: 0x0102_0304_0506, count: 4096).encoded(streamID: 0x0A0B)
        #expect(read.count == 24)
        #expect(Array(read[0..<4]) == [0x0A, 0x0B, 0x0B, 0xC5])  // stream id, kXR_read = 3013
        #expect(Array(read[4..<8]) == [1, 2, 3, 4])
        #expect(Array(read[8..<16]) == [0, 0, 1, 2, 3, 4, 5, 6])
        #expect(Array(read[16..<24]) == [0, 0, 0x10, 0, 0, 0, 0, 0])
        #expect(XRootDProtocol.handshake == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0x07, 0xDC])
        let auth = XRootDRequest.unixAuthentication(user: "cms", group: "zh").encoded(streamID: 1)
        #expect(Array(auth[16..<20]) == Array("unix".utf8))
        #expect(Array(auth[24...]) == Array("unix\0cms zh\0".utf8))
    }
}
