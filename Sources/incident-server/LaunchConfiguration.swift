// incident-server's settings, resolved once at start into one value: the command line over the environment over
// the config file over the documented defaults (ServerOptions.resolve for the service's config; the tuning
// variables below). Nothing reads the environment after this.
import HTTPDoor
import IncidentCore
import IncidentServer
import IncidentStore
import Logging

/// Everything incident-server needs to start, resolved from its flags, environment and config file.
struct LaunchConfiguration {
    /// Listeners, TLS files, database URL, rules, jobs: the config file with the environment and flags applied.
    var service: ServiceConfig
    var logFormat: LogFormat
    /// INCIDENT_LOG_LEVEL (trace..critical); info by default.
    var logLevel: Logger.Level
    /// `--metrics-listen` or INCIDENT_METRICS_LISTEN: `HOST:PORT` of the Prometheus endpoint; nil leaves metrics off.
    var metricsAddress: String?
    /// INCIDENT_WRITE_BATCH: most creates written in one transaction (a P0 waits for the batch in flight).
    var writeBatch: Int?
    /// INCIDENT_STREAM_BUFFER (changes) and INCIDENT_STREAM_BUFFER_BYTES: what a live stream may have waiting
    /// before it is ended as fallen behind.
    var changeHub: ChangeHub.Configuration
    /// INCIDENT_ADMISSION_LIMIT: unary calls in flight at which P1 creates are refused (lower ones earlier).
    var admissionLimit: Int
    /// INCIDENT_URGENT_PER_IDENTITY: P0 creates one identity may have on the urgent thread at once.
    var urgentPerIdentity: Int
    /// INCIDENT_STREAMS_PER_IDENTITY: StreamIncidents calls one identity may have open.
    var streamsPerIdentity: Int
    /// INCIDENT_HEALTH_WATCHERS: Health.Watch calls open at once, whoever makes them.
    var healthWatchers: Int
    /// INCIDENT_HTTP_MAX_BODY: largest HTTP request body in bytes (larger ones are answered 413).
    var httpMaxBodyBytes: Int
    /// INCIDENT_WS_IDLE_SECONDS (90), INCIDENT_WS_MAX_IN_FLIGHT (32), INCIDENT_WS_MAX_EXPANDED_BYTES (16 MiB): the
    /// Edge Agent WebSocket's idle close, creates in flight per connection and gunzipped batch cap.
    var webSocket: EdgeAgentSocketSettings
    /// Given to the job pipeline, which reads its integrations' modes and endpoints from it.
    var environment: [String: String]
    /// How long calls in flight may finish after SIGTERM or SIGINT.
    var shutdownGrace: Duration = .seconds(10)

    /// Why the process cannot start: a bad command line (exit 64; an empty message asks for the usage, exit 0) or
    /// a bad configuration (exit 78).
    enum Failure: Error {
        case usage(UsageError)
        case configuration(ConfigError)
    }

    init(arguments: [String], environment: [String: String]) throws(Failure) {
        let options: ServerOptions
        do {
            options = try ServerOptions(arguments: arguments)
        } catch {
            throw .usage(error)
        }
        do {
            service = try options.resolve(environment: environment)
        } catch {
            throw .configuration(error)
        }
        logFormat = (options.logFormat ?? environment["INCIDENT_LOG_FORMAT"]).flatMap(LogFormat.init(rawValue:))
            ?? .forStandardError
        logLevel = LineLogHandler.level(named: environment["INCIDENT_LOG_LEVEL"]) ?? .info
        metricsAddress = options.metricsListen ?? environment["INCIDENT_METRICS_LISTEN"].flatMap { $0.isEmpty ? nil : $0 }
        writeBatch = environment["INCIDENT_WRITE_BATCH"].flatMap { Int($0) }.flatMap { $0 > 0 ? $0 : nil }
        var hub = ChangeHub.Configuration()
        if let entries = environment["INCIDENT_STREAM_BUFFER"].flatMap({ Int($0) }) {
            hub = ChangeHub.Configuration(subscriberBuffer: entries, subscriberBufferBytes: hub.subscriberBufferBytes)
        }
        if let bytes = environment["INCIDENT_STREAM_BUFFER_BYTES"].flatMap({ Int($0) }) {
            hub = ChangeHub.Configuration(subscriberBuffer: hub.subscriberBuffer, subscriberBufferBytes: bytes)
        }
        changeHub = hub
        admissionLimit = environment["INCIDENT_ADMISSION_LIMIT"].flatMap { Int($0) } ?? 512
        urgentPerIdentity = environment["INCIDENT_URGENT_PER_IDENTITY"].flatMap { Int($0) }
            ?? CreateAdmission.defaultUrgentPerIdentity
        streamsPerIdentity = environment["INCIDENT_STREAMS_PER_IDENTITY"].flatMap { Int($0) }
            ?? IncidentServiceHandler.defaultStreamsPerIdentity
        healthWatchers = environment["INCIDENT_HEALTH_WATCHERS"].flatMap { Int($0) } ?? HealthService.defaultMaxWatchers
        httpMaxBodyBytes = environment["INCIDENT_HTTP_MAX_BODY"].flatMap { Int($0) }.flatMap { $0 > 0 ? $0 : nil }
            ?? HTTPDoorSettings.defaultMaxBodyBytes
        var webSocket = EdgeAgentSocketSettings()
        if let seconds = environment["INCIDENT_WS_IDLE_SECONDS"].flatMap({ Double($0) }), seconds > 0 {
            webSocket.idleTimeout = .milliseconds(Int64(seconds * 1000))
        }
        if let count = environment["INCIDENT_WS_MAX_IN_FLIGHT"].flatMap({ Int($0) }), count > 0 {
            webSocket.maxInFlight = count
        }
        if let bytes = environment["INCIDENT_WS_MAX_EXPANDED_BYTES"].flatMap({ Int($0) }), bytes > 0 {
            webSocket.maxExpandedBytes = bytes
        }
        webSocket.maxMessageBytes = httpMaxBodyBytes
        self.webSocket = webSocket
        self.environment = environment
    }

    /// The store's settings (the URL may hold a password: it is never logged).
    var storeConfiguration: StoreConfiguration {
        var configuration = StoreConfiguration(connection: ConnectionSettings(url: service.databaseURL ?? ""))
        if let writeBatch { configuration.maxBatch = writeBatch }
        return configuration
    }
}
