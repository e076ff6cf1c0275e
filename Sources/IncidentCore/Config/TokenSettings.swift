// The `tokens` block of the config: API keys (kept only as SHA-256 hashes) and JSON Web Token settings, with
// which a call's `authorization: Bearer …` metadata stands for a configured identity.

/// Bearer tokens a call may carry to act as a configured identity instead of its certificate's.
public struct TokenSettings: Sendable, Hashable {
    /// Accepted API keys, by hash.
    public var apiKeys: [APIKeyEntry]
    /// Accepted JWTs; nil accepts none.
    public var jwt: JWTSettings?

    public init(apiKeys: [APIKeyEntry] = [], jwt: JWTSettings? = nil) {
        self.apiKeys = apiKeys
        self.jwt = jwt
    }

    /// Whether any bearer token can be accepted.
    public var acceptsTokens: Bool { !apiKeys.isEmpty || jwt != nil }
}

/// One API key: the SHA-256 of the key (never the key) and the identity it stands for.
public struct APIKeyEntry: Sendable, Hashable {
    /// SHA-256 of the key's UTF-8 bytes.
    public var sha256: [UInt8]
    /// The name of a configured identity.
    public var identity: String

    public init(sha256: [UInt8], identity: String) {
        self.sha256 = sha256
        self.identity = identity
    }
}

/// The JWS algorithms the server verifies (never `none`).
public enum JWTAlgorithm: String, Sendable, Hashable, CaseIterable {
    case rs256 = "RS256"
    case es256 = "ES256"
    case hs256 = "HS256"
}

/// Which JWTs are accepted and how their subject becomes an identity.
public struct JWTSettings: Sendable, Hashable {
    /// When set, the `iss` claim must equal it.
    public var issuer: String?
    /// When set, the `aud` claim (a string or a list) must contain it.
    public var audience: String?
    /// The claim whose text value names the identity (`sub` unless configured).
    public var identityClaim: String
    /// Clock skew allowed on `exp` and `nbf`, in seconds.
    public var leewaySeconds: Double
    /// Keys signatures are checked against; a token is accepted when one of them verifies it.
    public var keys: [JWTKey]
    /// When set, the longest a token may live (`exp - iat`, in seconds); tokens without `iat` are then refused.
    public var maxLifetimeSeconds: Double?

    public init(issuer: String? = nil, audience: String? = nil, identityClaim: String = "sub",
                leewaySeconds: Double = 60, keys: [JWTKey], maxLifetimeSeconds: Double? = nil) {
        self.issuer = issuer
        self.audience = audience
        self.identityClaim = identityClaim
        self.leewaySeconds = leewaySeconds
        self.keys = keys
        self.maxLifetimeSeconds = maxLifetimeSeconds
    }
}

/// One verification key: where it comes from and, once loaded at start-up, the key itself.
public struct JWTKey: Sendable, Hashable {
    /// Where the key is read from: a PEM public key file (RS256, ES256) or an environment variable (HS256).
    public enum Source: Sendable, Hashable {
        case publicKeyFile(String)
        case secretEnvironment(String)
    }

    /// The loaded key. Its description never shows a secret.
    public enum Material: Sendable, Hashable, CustomStringConvertible {
        case publicKeyPEM(String)
        case secret([UInt8])

        public var description: String {
            switch self {
            case .publicKeyPEM: "public key (PEM)"
            case .secret(let bytes): "secret (\(bytes.count) bytes)"
            }
        }
    }

    public var algorithm: JWTAlgorithm
    /// When set, only tokens whose header names this `kid` (or no `kid`) are checked with this key.
    public var keyID: String?
    public var source: Source
    /// Nil until the server loads it (`ServerOptions.resolve`); tests may set it directly.
    public var material: Material?
    /// When set, the only identities a token signed with this key may name (a CI key cannot mint an admin).
    public var identities: Set<String>?

    public init(algorithm: JWTAlgorithm, keyID: String? = nil, source: Source, material: Material? = nil,
                identities: Set<String>? = nil) {
        self.algorithm = algorithm
        self.keyID = keyID
        self.source = source
        self.material = material
        self.identities = identities
    }
}
