// Calls that succeed over mutual TLS: unary echo, metadata both ways, peer identity, deadlines, streams.
import Testing
import RPC

@Suite("Calls over mutual TLS")
struct UnaryAndStreamTests {
    @Test("a unary call echoes its request")
    func unaryEcho() async throws {
        let fixture = try TestServer.start()
        defer { Task { await fixture.server.shutdown(grace: .zero) } }
        let channel = try fixture.channel()
        let payload = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let response = try await channel.unary(path: TestService.path("Echo"), request: payload, options: .test)
        #expect(response == payload)
        let empty = try await channel.unary(path: TestService.path("Echo"), request: [], options: .test)
        #expect(empty.isEmpty)
    }

    @Test("request metadata reaches the handler; initial and trailing metadata reach the client")
    func metadata() async throws {
        let fixture = try TestServer.start()
        defer { Task { await fixture.server.shutdown(grace: .zero) } }
        let channel = try fixture.channel()
        var options = CallOptions.test
        options.metadata.addString("req-42", forKey: "X-Request-Id")
        let response = try await channel.unaryCall(path: TestService.path("Echo"), request: [1], options: options)
        #expect(response.initialMetadata.first("x-echo-initial") == "req-42")
        #expect(response.trailingMetadata.first("x-echo-trailing") == "req-42")
    }

    @Test("binary metadata keeps every byte both ways")
    func binaryMetadata() async throws {
        let fixture = try TestServer.start()
        defer { Task { await fixture.server.shutdown(grace: .zero) } }
        let channel = try fixture.channel()
        var options = CallOptions.test
        let blob: [UInt8] = [0, 1, 0x7F, 0x80, 0xFE, 0xFF, 0x0A, 0x0D]
        options.metadata.addBinary(blob, forKey: "x-blob-bin")
        let response = try await channel.unaryCall(path: TestService.path("Echo"), request: [1], options: options)
        #expect(response.trailingMetadata.values("x-blob-reversed-bin") == [.binary(blob.reversed())])
    }

    @Test("the handler sees the client certificate's identity")
    func peerIdentity() async throws {
        let fixture = try TestServer.start()
        defer { Task { await fixture.server.shutdown(grace: .zero) } }
        let channel = try fixture.channel()
        let response = try await channel.unary(path: TestService.path("Peer"), request: [], options: .test)
        let fields = String(decoding: response, as: UTF8.self).split(separator: "|", omittingEmptySubsequences: false)
        #expect(fields.count == 4)
        #expect(fields[0] == "llm-shield")
        #expect(fields[1] == "shield.internal")
        #expect(fields[2] == "spiffe://incident-manager.test/llm-shield")
        #expect(String(fields[3]) == (try fixture.pki.opensslFingerprint("client.pem")))
    }

    @Test("the handler sees the client's deadline, and none when the client set none")
    func deadline() async throws {
        let fixture = try TestServer.start()
        defer { Task { await fixture.server.shutdown(grace: .zero) } }
        let channel = try fixture.channel()
        let withDeadline = try await channel.unary(
            path: TestService.path("Deadline"), request: [], options: CallOptions(timeout: .seconds(120)))
        let seconds = Int(String(decoding: withDeadline, as: UTF8.self)) ?? -1
        #expect(seconds > 60 && seconds <= 120)
        let without = try await channel.unary(path: TestService.path("Deadline"), request: [], options: CallOptions())
        #expect(String(decoding: without, as: UTF8.self) == "none")
    }

    @Test("a server stream delivers every message in order, then ends")
    func serverStream() async throws {
        let fixture = try TestServer.start()
        defer { Task { await fixture.server.shutdown(grace: .zero) } }
        let channel = try fixture.channel()
        var received: [String] = []
        for try await message in channel.serverStreaming(
            path: TestService.path("Count"), request: Array("500".utf8), options: .test)
        {
            received.append(String(decoding: message, as: UTF8.self))
        }
        #expect(received == (1...500).map(String.init))
        var none = 0
        for try await _ in channel.serverStreaming(
            path: TestService.path("Count"), request: Array("0".utf8), options: .test)
        {
            none += 1
        }
        #expect(none == 0)
    }

    @Test("many concurrent calls on one channel all succeed")
    func concurrentCalls() async throws {
        let fixture = try TestServer.start()
        defer { Task { await fixture.server.shutdown(grace: .zero) } }
        let channel = try fixture.channel()
        let results = try await withThrowingTaskGroup(of: Bool.self) { group in
            for index in 0..<400 {
                group.addTask {
                    let request = Array("call-\(index)".utf8)
                    return try await channel.unary(path: TestService.path("Echo"), request: request, options: .test)
                        == request
                }
            }
            return try await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(results.count == 400)
        #expect(results.allSatisfy { $0 })
    }

    @Test("a server listening on several addresses serves mutual TLS on each")
    func severalAddresses() async throws {
        // The core gives a second `:0` address the port it picked for the first one.
        let fixture = try TestServer.start { $0.listenAddresses = ["127.0.0.1:0", "127.0.0.2:0"] }
        defer { Task { await fixture.server.shutdown(grace: .zero) } }
        let ports = fixture.server.boundPorts
        #expect(ports.count == 2)
        for (host, port) in zip(["127.0.0.1", "127.0.0.2"], ports) {
            // The server certificate names 127.0.0.1 and localhost, so 127.0.0.2 is verified as localhost.
            let channel = try Channel(configuration: ChannelConfiguration(
                target: "\(host):\(port)",
                security: .mutualTLS(
                    trustRootsPath: fixture.pki.path("ca.pem"), certificateChainPath: fixture.pki.path("client.pem"),
                    privateKeyPath: fixture.pki.path("client.key")),
                serverNameOverride: "localhost"))
            #expect(try await channel.unary(path: TestService.path("Echo"), request: [7], options: .test) == [7])
        }
    }

    @Test("a plaintext server on loopback serves calls and reports no peer identity")
    func insecureLoopback() async throws {
        let fixture = try TestServer.start(security: .insecure())
        defer { Task { await fixture.server.shutdown(grace: .zero) } }
        let channel = try fixture.insecureChannel()
        let response = try await channel.unary(path: TestService.path("Peer"), request: [], options: .test)
        #expect(String(decoding: response, as: UTF8.self) == "none")
    }
}
