// Where the database is and how to reach it safely.

/// TLS requirements for the database connection; passed to libpq as its own `ssl*` keywords.
public struct DatabaseTLS: Sendable, Hashable {
    /// libpq's `sslmode`: `disable`, `prefer`, `require`, `verify-ca`, `verify-full`.
    public var mode: String
    /// CA certificate file that must have signed the server's certificate.
    public var rootCertificatePath: String?
    /// Client certificate and key files, for servers that authenticate clients by certificate.
    public var certificatePath: String?
    public var keyPath: String?

    public init(mode: String, rootCertificatePath: String? = nil, certificatePath: String? = nil,
                keyPath: String? = nil) {
        self.mode = mode
        self.rootCertificatePath = rootCertificatePath
        self.certificatePath = certificatePath
        self.keyPath = keyPath
    }

    /// Encrypt and verify the server's certificate and host name.
    public static func verifyFull(rootCertificatePath: String) -> DatabaseTLS {
        DatabaseTLS(mode: "verify-full", rootCertificatePath: rootCertificatePath)
    }
}

/// How to open one libpq connection.
public struct ConnectionSettings: Sendable, Hashable {
    /// A `postgresql://` URL or a libpq key=value string.
    public var url: String
    /// A database to use instead of the one the URL names.
    public var databaseName: String?
    /// TLS options; nil leaves whatever the URL says (libpq's default is `prefer`).
    public var tls: DatabaseTLS?
    /// Shown in `pg_stat_activity`, so operators can tell our connections apart.
    public var applicationName: String
    /// Seconds to wait for a connection before reporting the database unavailable.
    public var connectTimeoutSeconds: Int
    /// Longest wait for any single answer from the server; past it the connection is dropped and the caller
    /// gets a retryable error instead of hanging.
    public var operationTimeout: Duration

    public init(url: String, databaseName: String? = nil, tls: DatabaseTLS? = nil,
                applicationName: String = "incident-manager",
                connectTimeoutSeconds: Int = 5, operationTimeout: Duration = .seconds(30)) {
        self.url = url
        self.databaseName = databaseName
        self.tls = tls
        self.applicationName = applicationName
        self.connectTimeoutSeconds = connectTimeoutSeconds
        self.operationTimeout = operationTimeout
    }

    /// libpq keyword/value pairs. The URL comes first so the explicit options after it win.
    var keywordValues: [(String, String)] {
        var pairs: [(String, String)] = [
            ("dbname", url),
            ("application_name", applicationName),
            ("connect_timeout", String(connectTimeoutSeconds)),
            ("keepalives", "1"),
            ("keepalives_idle", "10"),
            ("keepalives_interval", "5"),
            ("keepalives_count", "3"),
            // Server NOTICEs (e.g. "already exists, skipping") would go to stderr; they carry nothing we act on.
            ("options", "-c client_min_messages=warning"),
        ]
        // Only the first dbname is expanded as a URL; a second one just names the database.
        if let databaseName { pairs.append(("dbname", databaseName)) }
        if let tls {
            pairs.append(("sslmode", tls.mode))
            if let path = tls.rootCertificatePath { pairs.append(("sslrootcert", path)) }
            if let path = tls.certificatePath { pairs.append(("sslcert", path)) }
            if let path = tls.keyPath { pairs.append(("sslkey", path)) }
        }
        return pairs
    }
}
