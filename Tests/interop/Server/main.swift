// rpc-interop-server: our RPC server with a few raw-bytes methods, for clients we did not write
// (Python grpcio) and for the benchmarks. Prints "PORT <n>" once serving; SIGTERM/SIGINT stop it gracefully
// (through swift-service-lifecycle, as incident-server does), SIGHUP reloads its certificates.
//
//   rpc-interop-server --listen 127.0.0.1:0 --cert server.pem --key server.key --client-ca ca.pem
//   rpc-interop-server --listen 127.0.0.1:0 --insecure
// Methods: /interop.Echo/Echo (unary echo), /interop.Echo/Count (request: decimal n; streams "1".."n"),
//          /interop.Echo/Peer (unary; the client certificate's common name),
//          /interop.Echo/Sum (client streaming; decimal numbers in, their total out),
//          /interop.Echo/Chat (bidirectional; answers each request with "echo:" + request as it arrives),
//          /interop.Echo/Fail (unary; throws an error whose text holds the request, which must reach no one).
import Logging
import RPC
import ServiceLifecycle
import UnixSignals

#if canImport(Glibc)
import Glibc
#endif

/// An error whose text carries data a log must not keep.
struct LeakyFailure: Error {
    var detail: String
}

struct InteropService: RegistrableService {
    var methodHandlers: [(MethodDescriptor, ServerMethodHandler)] {
        [
            (MethodDescriptor(service: "interop.Echo", method: "Echo"), .unary { request, _ in request }),
            (MethodDescriptor(service: "interop.Echo", method: "Count"), .serverStreaming { request, writer, _ in
                let count = Int(String(decoding: request, as: UTF8.self)) ?? 0
                var index = 1
                while index <= count {
                    try await writer.write(Array(String(index).utf8))
                    index += 1
                }
            }),
            (MethodDescriptor(service: "interop.Echo", method: "Peer"), .unary { _, context in
                Array((context.peer?.commonName ?? "").utf8)
            }),
            (MethodDescriptor(service: "interop.Echo", method: "Sum"), .clientStreaming { requests, _ in
                var total = 0
                for try await request in requests { total += Int(String(decoding: request, as: UTF8.self)) ?? 0 }
                return Array(String(total).utf8)
            }),
            (MethodDescriptor(service: "interop.Echo", method: "Chat"), .bidirectionalStreaming { requests, responses, _ in
                for try await request in requests { try await responses.write(Array("echo:".utf8) + request) }
            }),
            (MethodDescriptor(service: "interop.Echo", method: "Fail"), .unary { request, _ in
                throw LeakyFailure(detail: String(decoding: request, as: UTF8.self))
            }),
        ]
    }
}

/// The server as a service: serves until graceful shutdown, then drains with `grace`.
struct InteropServerService: Service {
    let server: Server
    let grace: Duration
    let onServing: @Sendable () -> Void

    func run() async throws {
        onServing()
        let server = server, grace = grace
        await withTaskCancellationOrGracefulShutdownHandler {
            await server.waitUntilTerminated()
        } onCancelOrGracefulShutdown: {
            Task { await server.shutdown(grace: grace) }
        }
    }
}

/// SIGHUP: the next handshakes re-read the certificate files.
struct ReloadOnHangup: Service {
    let hangups: UnixSignalsSequence
    let server: Server

    func run() async throws {
        for await _ in hangups.cancelOnGracefulShutdown() { server.reloadCertificates() }
    }
}

@main
struct InteropServerMain {
    static func main() async {
        var options: [String: String] = [:]
        var flags = Set<String>()
        var arguments = CommandLine.arguments.dropFirst()
        while let argument = arguments.popFirst() {
            if argument == "--insecure" { flags.insert(argument); continue }
            guard argument.hasPrefix("--"), let value = arguments.popFirst() else {
                fail("unexpected argument \(argument)")
            }
            options[argument] = value
        }
        let security: ServerSecurity
        if flags.contains("--insecure") {
            security = .insecure()
        } else {
            guard let cert = options["--cert"], let key = options["--key"], let ca = options["--client-ca"] else {
                fail("need --cert, --key and --client-ca (or --insecure)")
            }
            security = .mutualTLS(certificateChainPath: cert, privateKeyPath: key, clientCAPath: ca)
        }
        var configuration = ServerConfiguration(
            listenAddresses: [options["--listen"] ?? "127.0.0.1:0"], security: security)
        if let threads = options["--threads"].flatMap(Int.init) { configuration.completionQueueThreads = threads }
        if let slots = options["--slots"].flatMap(Int.init) { configuration.requestSlotsPerMethod = slots }
        // Log lines on stderr: stdout carries only PORT and STOPPED.
        LoggingSystem.bootstrap(StreamLogHandler.standardError)
        configuration.logger = Logger(label: "rpc")
        do {
            let server = try Server(configuration: configuration, services: [InteropService()])
            try server.start()
            let port = server.boundPorts[0]
            // Trapped before PORT is printed: a signal sent right after it must not meet the default action.
            let hangups = await UnixSignalsSequence(trapping: .sighup)
            let group = ServiceGroup(
                services: [
                    ReloadOnHangup(hangups: hangups, server: server),
                    InteropServerService(server: server, grace: .seconds(5)) {
                        print("PORT \(port)")
                        fflush(nil)
                    },
                ],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: Logger(label: "rpc-interop-server"))
            try await group.run()
            print("STOPPED")
        } catch {
            fail("\(error)")
        }
    }

    static func fail(_ message: String) -> Never {
        var line = "rpc-interop-server: \(message)\n"
        line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
        exit(2)
    }
}
