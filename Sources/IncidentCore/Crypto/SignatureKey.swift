// What the bearer-token verifier needs of a public key: to check a JWS signature over bytes. Loading PEM and the
// cryptography itself belong to a crypto module (incident-server uses Crypto, over libcrypto), so the domain holds
// no C key handles.

/// Why a PEM public key cannot be used for an algorithm.
public struct SignatureKeyError: Error, Sendable, Hashable, CustomStringConvertible {
    public var problem: String
    public var description: String { problem }

    public init(problem: String) {
        self.problem = problem
    }
}

/// A public key checked to suit one JWS algorithm (RS256 or ES256).
public protocol SignatureKey: Sendable {
    /// Whether `signature` (in JWS form: ES256 as raw r||s) signs `message` under this key.
    func verify(signature: [UInt8], message: [UInt8]) -> Bool
}

/// Turns a configured PEM public key into a `SignatureKey`.
public protocol SignatureKeyLoader: Sendable {
    /// The key a `-----BEGIN PUBLIC KEY-----` PEM holds, checked for `algorithm` (RS256: RSA of 2048 bits or more,
    /// ES256: P-256), or why it cannot serve it.
    func key(pem: String, algorithm: JWTAlgorithm) throws(SignatureKeyError) -> any SignatureKey
}
