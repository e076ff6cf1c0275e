// incident-server: the IncidentService over mutual TLS, backed by Postgres. See ServerOptions.usage.
// Exit codes: 0 after a signalled shutdown, 64 bad command line, 78 bad configuration, 69 database or
// listener unavailable at start.
import Foundation
import IncidentCore
import IncidentServer
import IncidentStore
import Logging
import Metrics
import Prometheus
import RPC

@main
struct IncidentServerMain {
    static func main() async {
        let options: ServerOptions
        do {
            options = try ServerOptions(arguments: Array(CommandLine.arguments.dropFirst()))
        } catch {
            if !error.message.isEmpty { FileHandle.standardError.write(Data("\(error.message)\n".utf8)) }
            fail(ServerOptions.usage, code: error.message.isEmpty ? 0 : 64)
        }
        let environment = ProcessInfo.processInfo.environment
        // Log lines: JSON for collectors, text on a terminal; every ServerLog made from here on uses this.
        let logFormat = (options.logFormat ?? environment["INCIDENT_LOG_FORMAT"]).flatMap(LogFormat.init(rawValue:))
            ?? .forStandardError
        let logLevel = LineLogHandler.level(named: environment["INCIDENT_LOG_LEVEL"]) ?? .info
        LoggingSystem.bootstrap { LineLogHandler(label: $0, format: logFormat, level: logLevel) }
        let log = ServerLog()
        // Metrics go to a Prometheus registry only when an endpoint is asked for; otherwise swift-metrics' no-op.
        let metricsAddress = options.metricsListen
            ?? environment["INCIDENT_METRICS_LISTEN"].flatMap { $0.isEmpty ? nil : $0 }
        let registry = PrometheusCollectorRegistry()
        if metricsAddress != nil {
            var factory = PrometheusMetricsFactory(registry: registry)
            // Calls take well under a millisecond to a few seconds: buckets from 250 µs up.
            factory.defaultDurationHistogramBuckets = [
                .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
                .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
                .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
            ]
            MetricsSystem.bootstrap(factory)
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
            // INCIDENT_WRITE_BATCH: most creates written in one transaction (a P0 waits for the batch in flight).
            var storeConfiguration = StoreConfiguration(connection: ConnectionSettings(url: config.databaseURL ?? ""))
            if let batch = environment["INCIDENT_WRITE_BATCH"].flatMap({ Int($0) }), batch > 0 {
                storeConfiguration.maxBatch = batch
            }
            store = try await IncidentStore.open(storeConfiguration)
        } catch {
            fail("incident-server: cannot open the database: \(error)", code: 69)
        }

        // One change-log reader for every stream. INCIDENT_STREAM_BUFFER (changes) and INCIDENT_STREAM_BUFFER_BYTES:
        // what a live stream may have waiting before it is ended as fallen behind.
        var hubConfiguration = ChangeHub.Configuration()
        if let entries = environment["INCIDENT_STREAM_BUFFER"].flatMap({ Int($0) }) {
            hubConfiguration = ChangeHub.Configuration(subscriberBuffer: entries,
                                                       subscriberBufferBytes: hubConfiguration.subscriberBufferBytes)
        }
        if let bytes = environment["INCIDENT_STREAM_BUFFER_BYTES"].flatMap({ Int($0) }) {
            hubConfiguration = ChangeHub.Configuration(subscriberBuffer: hubConfiguration.subscriberBuffer,
                                                       subscriberBufferBytes: bytes)
        }
        let streams = ChangeHub(store: store, configuration: hubConfiguration, log: log)
        streams.start()
        // INCIDENT_STREAMS_PER_IDENTITY / INCIDENT_HEALTH_WATCHERS: open StreamIncidents per identity / Health.Watch.
        let handler = IncidentServiceHandler(store: store, config: config, log: log, streams: streams,
            streamsPerIdentity: environment["INCIDENT_STREAMS_PER_IDENTITY"].flatMap { Int($0) }
                ?? IncidentServiceHandler.defaultStreamsPerIdentity)
        let server: Server
        do {
            let served: [any RegistrableService] = [handler, HealthService(store: store, maxWatchers:
                environment["INCIDENT_HEALTH_WATCHERS"].flatMap { Int($0) } ?? HealthService.defaultMaxWatchers)]
            let reflection = try ServerReflection(advertising: served, config: config)
            var configuration = ServerConfiguration(
                listenAddresses: config.listen,
                security: .mutualTLS(certificateChainPath: config.tls.certificateChain,
                                     privateKeyPath: config.tls.privateKey, clientCAPath: config.tls.clientCA),
                callObserver: RPCCallMetrics())
            // INCIDENT_ADMISSION_LIMIT: unary calls in flight at which P1 creates are refused (lower ones earlier);
            // INCIDENT_URGENT_PER_IDENTITY: P0 creates one identity may have on the urgent thread at once.
            let admission = CreateAdmission(
                limit: environment["INCIDENT_ADMISSION_LIMIT"].flatMap { Int($0) } ?? 512, config: config,
                urgentPerIdentity: environment["INCIDENT_URGENT_PER_IDENTITY"].flatMap { Int($0) }
                    ?? CreateAdmission.defaultUrgentPerIdentity)
            configuration.admission = { admission.admit($0, $1, $2) }
            configuration.callObserver = AdmissionCallObserver(admission, then: configuration.callObserver)
            server = try Server(configuration: configuration, services: served + reflection.services)
            try server.start()
        } catch {
            await streams.stop()
            store.shutdown()
            fail("incident-server: cannot start: \(error)", code: 69)
        }
        // Pages, notifications, webhooks and remediation run as jobs (integrations in mock mode unless told live).
        let pipeline = IncidentPipeline(store: store, config: config, environment: ProcessInfo.processInfo.environment,
                                        log: log)
        pipeline.start()
        let gauges = ServiceGauges(store: store, streams: streams)
        var metricsEndpoint: MetricsEndpoint?
        if let metricsAddress {
            gauges.start()
            do {
                metricsEndpoint = try MetricsEndpoint(address: metricsAddress) {
                    gauges.refresh()
                    return registry.emitToBuffer()
                }
            } catch {
                fail("incident-server: \(error)", code: 69)
            }
            let shown = metricsAddress.hasSuffix(":0")
                ? String(metricsAddress.dropLast()) + String(metricsEndpoint?.port ?? 0) : metricsAddress
            log.info("incident-server: metrics on http://\(shown)/metrics")
        }
        log.info("incident-server: jobs " + (config.jobs.enabled ? "on, \(config.jobs.workers) workers" : "off") + "; "
                 + pipeline.modes.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value.rawValue)" }
                    .joined(separator: ", "))
        let ports = server.boundPorts
        await server.runUntilSignalled(grace: .seconds(10)) {
            let addresses = zip(config.listen, ports).map { address, port in
                address.hasSuffix(":0") ? String(address.dropLast()) + String(port) : address
            }
            log.info("incident-server: serving IncidentService on \(addresses.joined(separator: ", ")) (mTLS)")
        }
        metricsEndpoint?.stop()
        gauges.stop()
        await pipeline.stop()
        await streams.stop()
        store.shutdown()
        log.info("incident-server: stopped")
    }

    static func fail(_ message: String, code: Int32) -> Never {
        FileHandle.standardError.write(Data((message + "\n").utf8))
        exit(code)
    }
}
