// Decides which configured identity a call's `authorization: Bearer …` token stands for: an API key compared
// by SHA-256 in constant time, or a JWT whose signature verifies (HS256 by HMAC here, RS256/ES256 by the
// `SignatureKey`s a loader made) and whose claims hold.
import Foundation

/// A JWT key that cannot be used, by its place in `tokens.jwt.keys`.
public struct TokenKeyError: Error, Sendable, Hashable {
    public var index: Int
    public var problem: String
}

/// Turns bearer tokens into identity names, or says why not. Never keeps or reports a token.
public struct BearerTokenVerifier: Sendable {
    private let apiKeys: [APIKeyEntry]
    private let jwt: JWTSettings?
    private let publicKeys: [(entry: JWTKey, key: any SignatureKey)]
    private let secrets: [(entry: JWTKey, secret: [UInt8])]

    /// Loads the configured keys' material, public keys through `keys`; every JWT key must have been loaded
    /// (`JWTKey.material`).
    public init(settings: TokenSettings, keys: some SignatureKeyLoader) throws(TokenKeyError) {
        apiKeys = settings.apiKeys
        jwt = settings.jwt
        var publicKeys: [(entry: JWTKey, key: any SignatureKey)] = []
        var secrets: [(entry: JWTKey, secret: [UInt8])] = []
        for (index, entry) in (settings.jwt?.keys ?? []).enumerated() {
            switch (entry.algorithm, entry.material) {
            case (.hs256, .secret(let secret)?):
                secrets.append((entry, secret))
            case (.rs256, .publicKeyPEM(let pem)?), (.es256, .publicKeyPEM(let pem)?):
                do {
                    publicKeys.append((entry, try keys.key(pem: pem, algorithm: entry.algorithm)))
                } catch {
                    throw TokenKeyError(index: index, problem: "the public key \(error.problem)")
                }
            case (_, nil):
                throw TokenKeyError(index: index, problem: "the key was not loaded")
            default:
                throw TokenKeyError(index: index, problem: "\(entry.algorithm.rawValue) does not take this kind of key")
            }
        }
        self.publicKeys = publicKeys
        self.secrets = secrets
    }

    private init(refusingAll: Void) {
        apiKeys = []
        jwt = nil
        publicKeys = []
        secrets = []
    }

    /// A verifier that accepts no token (used when the configured keys cannot be loaded: fail closed).
    public static let refusingAll = BearerTokenVerifier(refusingAll: ())

    /// The identity named by an `authorization` metadata value of the form `Bearer <token>`.
    public func identity(forAuthorization value: String, now: Date = Date()) throws(TokenRejection) -> String {
        let parts = value.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            throw TokenRejection(.malformedHeader, "authorization metadata must be \"Bearer <token>\"")
        }
        return try identity(forToken: parts[1].trimmingCharacters(in: .whitespaces), now: now)
    }

    /// The identity `token` stands for at `now`.
    public func identity(forToken token: String, now: Date = Date()) throws(TokenRejection) -> String {
        guard !apiKeys.isEmpty || jwt != nil else {
            throw TokenRejection(.notAccepted, "this server accepts no bearer tokens; call with the certificate alone")
        }
        if let jwt, token.utf8.lazy.filter({ $0 == UInt8(ascii: ".") }).count == 2 {
            return try identity(forJWT: token, settings: jwt, now: now)
        }
        guard !apiKeys.isEmpty else { throw TokenRejection(.malformed, "is not three base64url parts joined by dots") }
        return try identity(forAPIKey: token)
    }

    /// Compares the key's hash with every configured hash, without stopping at a match, in constant time each.
    func identity(forAPIKey key: String) throws(TokenRejection) -> String {
        let hash = Digest.sha256(Array(key.utf8))
        var found: String?
        for entry in apiKeys where Digest.constantTimeEqual(entry.sha256, hash) && found == nil {
            found = entry.identity
        }
        guard let found else { throw TokenRejection(.unknownKey, "is not a known API key") }
        return found
    }

    func identity(forJWT text: String, settings: JWTSettings, now: Date) throws(TokenRejection) -> String {
        let token = try JSONWebToken(compact: text)
        guard let algorithm = JWTAlgorithm(rawValue: token.algorithm),
              settings.keys.contains(where: { $0.algorithm == algorithm }) else {
            let accepted = Set(settings.keys.map(\.algorithm.rawValue)).sorted().joined(separator: ", ")
            throw TokenRejection(.algorithm, "algorithm \"\(token.algorithm.prefix(16))\" is not accepted (accepted: "
                                 + "\(accepted))")
        }
        func candidate(_ entry: JWTKey) -> Bool {
            entry.algorithm == algorithm && (entry.keyID == nil || token.keyID == nil || entry.keyID == token.keyID)
        }
        var signer: JWTKey?
        for (entry, key) in publicKeys where signer == nil && candidate(entry) {
            if key.verify(signature: token.signature, message: token.signingInput) { signer = entry }
        }
        for (entry, secret) in secrets where signer == nil && candidate(entry) {
            let expected = Digest.hmacSHA256(key: secret, message: token.signingInput)
            if Digest.constantTimeEqual(expected, token.signature) { signer = entry }
        }
        guard let signer else { throw TokenRejection(.signature, "signature does not verify with any configured key") }
        let identity = try TokenClaimsCheck(settings: settings).identity(from: token.claims, now: now)
        if let allowed = signer.identities, !allowed.contains(identity) {
            throw TokenRejection(.identityNotAllowed, "the key that signed it may not name identity \"\(identity.prefix(64))\" "
                                 + "(allowed: \(allowed.sorted().joined(separator: ", ")))")
        }
        return identity
    }
}
