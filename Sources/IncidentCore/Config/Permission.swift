// What an authenticated identity may do, named as the integration spec names them.

/// One permission an identity can hold.
public enum Permission: String, Sendable, CaseIterable, Hashable {
    case eventCreate = "event:create"
    case incidentRead = "incident:read"
    case incidentReadPayload = "incident:read_payload"
    case incidentUpdate = "incident:update"
    case incidentStream = "incident:stream"
}

/// Who a caller is (matched from its client certificate) and what it may do.
public struct IdentityPolicy: Sendable, Hashable {
    /// The name the service uses for this identity in logs and the audit trail.
    public var name: String
    /// Certificate subject common names that are this identity.
    public var commonNames: [String]
    /// URI subject alternative names (SPIFFE ids) that are this identity.
    public var uris: [String]
    /// DNS subject alternative names that are this identity.
    public var dnsNames: [String]
    /// What the identity may do.
    public var permissions: Set<Permission>
    /// Its request budget; `nil` means no per-identity limit (admission by priority still applies).
    public var rateLimit: RateLimit?
    /// The event `source` values it may report; `*` allows any. Defaults to its own name, so one detector
    /// cannot speak for another (trigger its rules, or claim its event ids first).
    public var sources: [String]

    public init(
        name: String,
        commonNames: [String] = [],
        uris: [String] = [],
        dnsNames: [String] = [],
        permissions: Set<Permission>,
        rateLimit: RateLimit? = nil,
        sources: [String]? = nil
    ) {
        self.name = name
        self.commonNames = commonNames.isEmpty && uris.isEmpty && dnsNames.isEmpty ? [name] : commonNames
        self.uris = uris
        self.dnsNames = dnsNames
        self.permissions = permissions
        self.rateLimit = rateLimit
        self.sources = sources ?? [name]
    }

    /// Whether events from this identity may name `source`.
    public func mayReport(source: String) -> Bool {
        sources.contains(source) || sources.contains("*")
    }

    /// True when a certificate with these names is this identity. SANs are checked before the common
    /// name, as RFC 6125 prefers.
    public func matches(commonName: String?, uris: [String], dnsNames: [String]) -> Bool {
        if !self.uris.isEmpty, uris.contains(where: self.uris.contains) { return true }
        if !self.dnsNames.isEmpty, dnsNames.contains(where: self.dnsNames.contains) { return true }
        if let commonName, commonNames.contains(commonName) { return true }
        return false
    }
}
