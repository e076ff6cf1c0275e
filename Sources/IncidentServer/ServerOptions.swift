// incident-server's command line and environment, resolved over the config file: flags win over the
// environment, which wins over the file, which wins over the documented defaults.
import Foundation
import IncidentCore

/// What the command line asked for, before the config file is read.
public struct ServerOptions: Sendable, Hashable {
    public var configFile: String?
    public var listen: [String] = []
    /// `--http-listen` addresses of the HTTP door (repeatable).
    public var httpListen: [String] = []
    public var tlsCertificate: String?
    public var tlsKey: String?
    public var clientCA: String?
    public var databaseURL: String?
    public var certsDirectory: String?
    /// `HOST:PORT` for the Prometheus endpoint; nil leaves metrics off.
    public var metricsListen: String?
    /// `json` or `text`; nil picks by whether stderr is a terminal.
    public var logFormat: String?

    public static let usage = """
        usage: incident-server [--config FILE] [--listen HOST:PORT]... [--http-listen HOST:PORT]... [--certs DIR]
                               [--tls-cert FILE] [--tls-key FILE] [--client-ca FILE] [--database-url URL]
                               [--metrics-listen HOST:PORT] [--log-format json|text]
          --http-listen     serve the HTTP door (REST, webhooks, HTML pages) over TLS there; off when unset
          --certs DIR  shorthand for DIR/server.crt, DIR/server.key and DIR/ca.crt
          --metrics-listen  serve Prometheus metrics at http://HOST:PORT/metrics (off when unset; :PORT is loopback)
          --log-format      json (one object per line) or text; text on a terminal, json otherwise
        environment: INCIDENT_LISTEN and INCIDENT_HTTP_LISTEN (comma-separated addresses), DATABASE_URL, INCIDENT_METRICS_LISTEN,
                     INCIDENT_LOG_FORMAT, INCIDENT_LOG_LEVEL (trace..critical, default info), and the variables
                     the config's tokens.jwt.keys[].secret_env name (HS256 secrets)
        """

    public init() {}

    /// Parses the arguments after the program name.
    public init(arguments: [String]) throws(UsageError) {
        var rest = arguments[...]
        while let flag = rest.popFirst() {
            if flag == "-h" || flag == "--help" { throw UsageError(message: "") }
            var name = flag, inlineValue: String?
            if let equals = flag.firstIndex(of: "="), flag.hasPrefix("--") {
                name = String(flag[..<equals])
                inlineValue = String(flag[flag.index(after: equals)...])
            }
            let known = ["--config", "--listen", "--http-listen", "--tls-cert", "--tls-key", "--client-ca", "--database-url", "--certs",
                         "--metrics-listen", "--log-format"]
            guard known.contains(name) else { throw UsageError(message: "unknown argument \(flag)") }
            guard let value = inlineValue ?? rest.popFirst(), !value.isEmpty else {
                throw UsageError(message: "\(name) needs a value")
            }
            switch name {
            case "--config": configFile = value
            case "--listen": listen.append(value)
            case "--http-listen": httpListen.append(value)
            case "--tls-cert": tlsCertificate = value
            case "--tls-key": tlsKey = value
            case "--client-ca": clientCA = value
            case "--database-url": databaseURL = value
            case "--metrics-listen": metricsListen = value
            case "--log-format":
                guard value == "json" || value == "text" else {
                    throw UsageError(message: "--log-format takes json or text, not \(value)")
                }
                logFormat = value
            default: certsDirectory = value
            }
        }
    }

    /// The effective config: the file (or the defaults), then `environment`, then these flags.
    public func resolve(environment: [String: String]) throws(ConfigError) -> ServiceConfig {
        var config = ServiceConfig.defaults
        if let configFile {
            let text: String
            do {
                text = try String(contentsOfFile: configFile, encoding: .utf8)
            } catch {
                throw ConfigError(file: configFile, key: "", problem: "cannot be read (\(error.localizedDescription))")
            }
            config = try ServiceConfig.parse(yaml: text, file: configFile)
        }
        if let listen = environment["INCIDENT_LISTEN"], !listen.isEmpty {
            config.listen = listen.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        }
        if let listen = environment["INCIDENT_HTTP_LISTEN"], !listen.isEmpty {
            config.httpListen = listen.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        }
        if let url = environment["DATABASE_URL"], !url.isEmpty { config.databaseURL = url }
        if !listen.isEmpty { config.listen = listen }
        if !httpListen.isEmpty { config.httpListen = httpListen }
        if let directory = certsDirectory {
            config.tls = TLSFiles(certificateChain: directory + "/server.crt", privateKey: directory + "/server.key",
                                  clientCA: directory + "/ca.crt")
        }
        if let tlsCertificate { config.tls.certificateChain = tlsCertificate }
        if let tlsKey { config.tls.privateKey = tlsKey }
        if let clientCA { config.tls.clientCA = clientCA }
        if let databaseURL { config.databaseURL = databaseURL }

        let source = configFile ?? "command line"
        config.tokens = try config.tokens.loadingKeys(environment: environment, file: source)
        config = try config.resolvingSourceKeys(environment: environment, file: source)
        guard config.databaseURL?.isEmpty == false else {
            throw ConfigError(file: source, key: "database_url",
                              problem: "no database: set DATABASE_URL or pass --database-url")
        }
        guard !config.listen.isEmpty else {
            throw ConfigError(file: source, key: "listen", problem: "needs at least one HOST:PORT")
        }
        for (key, path) in [("tls.cert", config.tls.certificateChain), ("tls.key", config.tls.privateKey),
                            ("tls.client_ca", config.tls.clientCA)]
        where !FileManager.default.isReadableFile(atPath: path) {
            throw ConfigError(file: source, key: key, problem: "\(path) does not exist or cannot be read")
        }
        return config
    }
}

/// A command line that cannot be understood; an empty message asks for the usage text only.
public struct UsageError: Error, Sendable, Hashable {
    public var message: String
}
