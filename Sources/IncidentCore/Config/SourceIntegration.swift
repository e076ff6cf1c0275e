// One detector's block under `integrations` (`llm-shield`, `llm-sentinel`, any other source): how it
// authenticates, its rate limit, and the severity mapping and routing defaults its events get. One shape and one
// reader for every source, so the guide's blocks are accepted as written.
import Foundation

/// `integrations.<source>`: the settings of one event source.
public struct SourceIntegration: Sendable, Hashable {
    /// Switched off, the block is checked but none of it applies (its API keys are refused).
    public var enabled = true
    /// `authentication.api_keys`: keys that may post as this source over HTTP (`X-API-Key`).
    public var apiKeys: [SourceAPIKey] = []
    /// `rate_limit`: the budget every key of the source shares.
    public var rateLimit: RateLimit?
    /// `severity_mapping`: the levels this source's words get; words it does not name use the service's mapping.
    public var severityMapping: [Severity: Priority] = [:]
    /// `alert_severity_mapping`: an alert's `labels.severity` value → a severity word or level (P0-P4), for
    /// sources that post alerts (Alertmanager); `default` names the one for values it does not list.
    public var alertSeverityMapping: [String: String] = [:]
    /// `field_mapping`: event field (`event_id`, `title`, `severity`, `description`, `category`, `event_type`,
    /// `timestamp`, `tags.<name>`) → JSON pointer into a tool's webhook body (`/tickets/webhook/<source>`).
    public var fieldMapping: [String: String] = [:]
    /// `routing.default_team` / `escalation_policy` / `auto_page`: where this source's incidents go when no
    /// routing rule matches; nil keeps the service's defaults.
    public var routing: RoutingDefaults?

    public init() {}

    /// The key whose SHA-256 is `digest`, compared in constant time against every configured hash (the time taken
    /// does not tell how much of a guess was right, nor which key it was close to).
    public func key(matchingDigest digest: [UInt8]) -> SourceAPIKey? {
        var found: SourceAPIKey?
        for key in apiKeys {
            guard let hash = key.hash, hash.count == digest.count else { continue }
            var difference: UInt8 = 0
            for index in 0..<hash.count { difference |= hash[index] ^ digest[index] }
            if difference == 0 && found == nil { found = key }
        }
        return found
    }
}

/// One entry of `authentication.api_keys`: `key_id`, `key_hash` (hex SHA-256 of the key, often `${VARIABLE}`)
/// and `permissions`.
public struct SourceAPIKey: Sendable, Hashable {
    public var keyID: String
    /// The hash as written (`${SENTINEL_API_KEY_HASH}` or hex digits); never the key itself.
    public var keyHashText: String
    /// The 32 hash bytes once the environment is applied (`ServiceConfig.resolvingSourceKeys`); nil before.
    public var hash: [UInt8]?
    public var permissions: Set<Permission>

    public init(keyID: String, keyHashText: String, hash: [UInt8]? = nil, permissions: Set<Permission>) {
        self.keyID = keyID
        self.keyHashText = keyHashText
        self.hash = hash
        self.permissions = permissions
    }
}

extension ServiceConfig {
    /// The config with every source key's `key_hash` expanded from `environment` and decoded; a hash that is not
    /// 64 hex digits after expansion (or names an unset variable) is a configuration error naming its key.
    public func resolvingSourceKeys(environment: [String: String], file: String) throws(ConfigError) -> ServiceConfig {
        var config = self
        for (name, source) in sources {
            for (index, key) in source.apiKeys.enumerated() {
                let path = "integrations.\(name).authentication.api_keys[\(index)].key_hash"
                let text = expandEnvironment(key.keyHashText, environment).trimmingCharacters(in: .whitespaces)
                if let variable = secretReferenceName(key.keyHashText), (environment[variable] ?? "").isEmpty {
                    throw ConfigError(file: file, key: path, problem: "the variable \(variable) is not set")
                }
                guard let bytes = Self.hexDigest(text) else {
                    throw ConfigError(file: file, key: path,
                                      problem: "must be the hex SHA-256 of the key (64 hex digits)")
                }
                config.sources[name]?.apiKeys[index].hash = bytes
            }
        }
        return config
    }

    private static func hexDigest(_ text: String) -> [UInt8]? {
        let digits = Array(text.lowercased().utf8)
        guard digits.count == 64 else { return nil }
        var bytes: [UInt8] = []
        for index in stride(from: 0, to: 64, by: 2) {
            guard let byte = UInt8(String(decoding: digits[index..<index + 2], as: UTF8.self), radix: 16) else {
                return nil
            }
            bytes.append(byte)
        }
        return bytes
    }
}
