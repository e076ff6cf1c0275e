// incident-server: the IncidentService over mutual TLS, backed by Postgres. See ServerOptions.usage.
// Exit codes: 0 after a signalled shutdown, 64 bad command line, 78 bad configuration, 69 database or
// listener unavailable at start.
import Foundation
import IncidentCore
import IncidentServer
import IncidentStore
import RPC

@main
struct IncidentServerMain {
    static func main() async {
        let log = ServerLog()
        let options: ServerOptions
        do {
            options = try ServerOptions(arguments: Array(CommandLine.arguments.dropFirst()))
        } catch {
            if !error.message.isEmpty { log.error(error.message) }
            fail(ServerOptions.usage, code: error.message.isEmpty ? 0 : 64)
        }
        let config: ServiceConfig
        do {
            config = try options.resolve(environment: ProcessInfo.processInfo.environment)
        } catch {
            fail("incident-server: bad configuration: \(error)", code: 78)
        }

        let store: IncidentStore
        do {
            // The URL may hold a password: it is never logged, only the error's own (secret-free) text.
            store = try await IncidentStore.open(StoreConfiguration(
                connection: ConnectionSettings(url: config.databaseURL ?? "")))
        } catch {
            fail("incident-server: cannot open the database: \(error)", code: 69)
        }

        let handler = IncidentServiceHandler(store: store, config: config, log: log)
        let server: Server
        do {
            let served: [any RegistrableService] = [handler, HealthService(store: store)]
            let reflection = try ServerReflection(advertising: served, config: config)
            server = try Server(
                configuration: ServerConfiguration(
                    listenAddresses: config.listen,
                    security: .mutualTLS(certificateChainPath: config.tls.certificateChain,
                                         privateKeyPath: config.tls.privateKey, clientCAPath: config.tls.clientCA)),
                services: served + reflection.services)
            try server.start()
        } catch {
            store.shutdown()
            fail("incident-server: cannot start: \(error)", code: 69)
        }
        let ports = server.boundPorts
        await server.runUntilSignalled(grace: .seconds(10)) {
            let addresses = zip(config.listen, ports).map { address, port in
                address.hasSuffix(":0") ? String(address.dropLast()) + String(port) : address
            }
            log.info("incident-server: serving IncidentService on \(addresses.joined(separator: ", ")) (mTLS)")
        }
        store.shutdown()
        log.info("incident-server: stopped")
    }

    static func fail(_ message: String, code: Int32) -> Never {
        FileHandle.standardError.write(Data((message + "\n").utf8))
        exit(code)
    }
}
