// incident-server: the IncidentService over mutual TLS, backed by Postgres. See ServerOptions.usage.
// Exit codes: 0 after a signalled shutdown, 64 bad command line, 78 bad configuration, 69 database or
// listener unavailable at start.
//
// Configuration is resolved once (LaunchConfiguration); the components then run as services of one ServiceGroup
// (LifecycleServices.swift), which turns SIGTERM/SIGINT into a graceful shutdown in reverse start order: the RPC
// server drains first, the database closes last. SIGHUP reloads the certificates.
import Foundation
import HTTPDoor
import IncidentCore
import IncidentServer
import IncidentStore
import Logging
import Metrics
import Prometheus
import RPC
import ServiceLifecycle
import UnixSignals

@main
struct IncidentServerMain {
    /// The service runs on the concurrency pool while the main thread waits for it. Not an `async` main: its
    /// dispatch main loop parks the main thread in `sigsuspend`, which valgrind 3.19 cannot run, and
    /// `make bench-create-cpu` counts the server's instructions under callgrind.
    static func main() {
        let stopped = DispatchSemaphore(value: 0)
        Task.detached {
            await run()
            stopped.signal()
        }
        stopped.wait()
    }

    static func run() async {
        let launch: LaunchConfiguration
        do {
            launch = try LaunchConfiguration(
                arguments: Array(CommandLine.arguments.dropFirst()), environment: ProcessInfo.processInfo.environment)
        } catch {
            switch error {
            case .usage(let error):
                if !error.message.isEmpty { FileHandle.standardError.write(Data("\(error.message)\n".utf8)) }
                fail(ServerOptions.usage, code: error.message.isEmpty ? 0 : 64)
            case .configuration(let error):
                fail("incident-server: bad configuration: \(error)", code: 78)
            }
        }
        let config = launch.service
        // Log lines: JSON for collectors, text on a terminal; every ServerLog and Logger made from here on uses this.
        LoggingSystem.bootstrap { [launch] in LineLogHandler(label: $0, format: launch.logFormat, level: launch.logLevel) }
        let log = ServerLog()
        // Metrics go to a Prometheus registry only when an endpoint is asked for; otherwise swift-metrics' no-op.
        let registry = PrometheusCollectorRegistry()
        if launch.metricsAddress != nil {
            var factory = PrometheusMetricsFactory(registry: registry)
            // Calls take well under a millisecond to a few seconds: buckets from 250 µs up.
            factory.defaultDurationHistogramBuckets = [
                .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
                .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
                .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
            ]
            MetricsSystem.bootstrap(factory)
        }

        let store: IncidentStore
        do {
            // The URL may hold a password: it is never logged, only the error's own (secret-free) text.
            store = try await IncidentStore.open(launch.storeConfiguration)
        } catch {
            fail("incident-server: cannot open the database: \(error)", code: 69)
        }
        // One change-log reader for every stream.
        let streams = ChangeHub(store: store, configuration: launch.changeHub, log: log)
        let handler = IncidentServiceHandler(store: store, config: config, log: log, streams: streams,
                                             streamsPerIdentity: launch.streamsPerIdentity,
                                             sheddingLimit: launch.admissionLimit)
        let health = HealthService(store: store, maxWatchers: launch.healthWatchers)
        let server: Server
        do {
            let served: [any RegistrableService] = [handler, health]
            let reflection = try ServerReflection(advertising: served, config: config)
            var configuration = ServerConfiguration(
                listenAddresses: config.listen,
                security: .mutualTLS(certificateChainPath: config.tls.certificateChain,
                                     privateKeyPath: config.tls.privateKey, clientCAPath: config.tls.clientCA),
                callObserver: RPCCallMetrics(),
                logger: Logger(label: "rpc"))
            let admission = CreateAdmission(limit: launch.admissionLimit, config: config,
                                            urgentPerIdentity: launch.urgentPerIdentity)
            configuration.admission = { admission.admit($0, $1, $2) }
            configuration.callObserver = AdmissionCallObserver(admission, then: configuration.callObserver)
            server = try Server(configuration: configuration, services: served + reflection.services)
        } catch {
            store.shutdown()
            fail("incident-server: cannot start: \(error)", code: 69)
        }
        // Pages, notifications, webhooks and remediation run as jobs (integrations in mock mode unless told live).
        let pipeline = IncidentPipeline(store: store, config: config, environment: launch.environment, log: log)
        let gauges = ServiceGauges(store: store, streams: streams)
        var metricsEndpoint: MetricsEndpoint?
        if let metricsAddress = launch.metricsAddress {
            do {
                metricsEndpoint = try MetricsEndpoint(address: metricsAddress) {
                    gauges.refresh()
                    return registry.emitToBuffer()
                }
            } catch {
                store.shutdown()
                fail("incident-server: \(error)", code: 69)
            }
            let shown = metricsAddress.hasSuffix(":0")
                ? String(metricsAddress.dropLast()) + String(metricsEndpoint?.port ?? 0) : metricsAddress
            log.info("incident-server: metrics on http://\(shown)/metrics")
        }
        log.info("incident-server: jobs " + (config.jobs.enabled ? "on, \(config.jobs.workers) workers" : "off") + "; "
                 + pipeline.modes.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value.rawValue)" }
                    .joined(separator: ", "))

        // Started in this order, shut down in the reverse: calls drain before the jobs, streams and database stop.
        var services: [any Service] = [
            ComponentService("store", stop: { store.shutdown() }),
            ComponentService("change-hub", start: { streams.start() }, stop: { await streams.stop() }),
            ComponentService("job-pipeline", start: { pipeline.start() }, stop: { await pipeline.stop() }),
        ]
        if let metricsEndpoint {
            services.append(ComponentService("service-gauges", start: { gauges.start() }, stop: { gauges.stop() }))
            services.append(ComponentService("metrics-endpoint", stop: { metricsEndpoint.stop() }))
        }
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        services.append(CertificateReloadOnHangup(hangups: hangups, server: server, log: log))
        let ports = server.boundPorts
        services.append(RPCServerService(server: server, grace: launch.shutdownGrace) {
            let addresses = zip(config.listen, ports).map { address, port in
                address.hasSuffix(":0") ? String(address.dropLast()) + String(port) : address
            }
            log.info("incident-server: serving IncidentService on \(addresses.joined(separator: ", ")) (mTLS)")
        })
        if !config.httpListen.isEmpty {
            // After the RPC server in start order, so on shutdown HTTP requests drain before gRPC calls do.
            do {
                var settings = HTTPDoorSettings(listen: config.httpListen, tls: config.tls,
                                                maxBodyBytes: launch.httpMaxBodyBytes)
                settings.webSocket = launch.webSocket
                services.append(try HTTPDoorService(
                    settings: settings,
                    handler: handler, health: health, log: log,
                    onServing: { log.info("incident-server: serving HTTP on \($0) (TLS)") }))
            } catch {
                store.shutdown()
                fail("incident-server: cannot start the HTTP door: \(error)", code: 69)
            }
        }
        let group = ServiceGroup(
            services: services, gracefulShutdownSignals: [.sigterm, .sigint],
            logger: Logger(label: "incident-server.lifecycle"))
        do {
            try await group.run()
        } catch {
            fail("incident-server: stopped on an error: \(error)", code: 69)
        }
        log.info("incident-server: stopped")
    }

    static func fail(_ message: String, code: Int32) -> Never {
        FileHandle.standardError.write(Data((message + "\n").utf8))
        exit(code)
    }
}
