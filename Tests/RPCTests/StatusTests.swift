// Status codes: handler errors, unknown methods, oversize messages.
import Testing
import RPC

@Suite("Statuses")
struct StatusTests {
    @Test("an RPCError thrown by a handler reaches the client with its code, message and trailers")
    func thrownStatus() async throws {
        let fixture = try TestServer.start()
        defer { Task { await fixture.server.shutdown(grace: .zero) } }
        let channel = try fixture.channel()
        let error = await status {
            _ = try await channel.unary(
                path: TestService.path("Status"), request: Array("5:incident 42 not found".utf8), options: .test)
        }
        #expect(error?.code == .notFound)
        #expect(error?.message == "incident 42 not found")
        #expect(error?.trailingMetadata.first("x-explained") == "yes")
    }

    @Test("any other thrown error becomes INTERNAL with a generic message")
    func otherErrorIsInternal() async throws {
        let fixture = try TestServer.start()
        defer { Task { await fixture.server.shutdown(grace: .zero) } }
        let channel = try fixture.channel()
        let error = await status {
            _ = try await channel.unary(path: TestService.path("Fail"), request: [], options: .test)
        }
        #expect(error?.code == .internal)
        #expect(error?.message == "internal error")
        #expect(!(error?.message.contains("hunter2") ?? true))
    }

    @Test("an unknown method is UNIMPLEMENTED, for unary and streaming callers")
    func unknownMethod() async throws {
        let fixture = try TestServer.start()
        defer { Task { await fixture.server.shutdown(grace: .zero) } }
        let channel = try fixture.channel()
        let error = await status {
            _ = try await channel.unary(path: "/test.Echo/Nope", request: [1], options: .test)
        }
        #expect(error?.code == .unimplemented)
        let streamError = await status {
            for try await _ in channel.serverStreaming(path: "/other.Service/Nope", request: [], options: .test) {}
        }
        #expect(streamError?.code == .unimplemented)
    }

    @Test("a request above the receive limit is RESOURCE_EXHAUSTED; the limit itself is accepted")
    func oversizeMessage() async throws {
        let fixture = try TestServer.start { $0.maxReceiveMessageBytes = 64 * 1024 }
        defer { Task { await fixture.server.shutdown(grace: .zero) } }
        let channel = try fixture.channel()
        let atLimit = [UInt8](repeating: 7, count: 64 * 1024)
        #expect(try await channel.unary(path: TestService.path("Echo"), request: atLimit, options: .test) == atLimit)
        let error = await status {
            _ = try await channel.unary(
                path: TestService.path("Echo"), request: [UInt8](repeating: 7, count: 64 * 1024 + 1), options: .test)
        }
        #expect(error?.code == .resourceExhausted)
    }

    @Test("the default receive limit is 4 MiB")
    func defaultLimit() async throws {
        let fixture = try TestServer.start()
        defer { Task { await fixture.server.shutdown(grace: .zero) } }
        let channel = try Channel(configuration: ChannelConfiguration(
            target: "127.0.0.1:\(fixture.port)",
            security: .mutualTLS(
                trustRootsPath: fixture.pki.path("ca.pem"), certificateChainPath: fixture.pki.path("client.pem"),
                privateKeyPath: fixture.pki.path("client.key")),
            maxReceiveMessageBytes: 8 * 1024 * 1024))
        let error = await status {
            _ = try await channel.unary(
                path: TestService.path("Echo"), request: [UInt8](repeating: 1, count: 4 * 1024 * 1024 + 1),
                options: .test)
        }
        #expect(error?.code == .resourceExhausted)
    }
}
