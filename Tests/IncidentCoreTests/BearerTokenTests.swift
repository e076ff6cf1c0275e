// The pure parts of bearer tokens: JWT parsing, claim checks with leeway, API keys by hash, HS256 through
// libcrypto's HMAC, and the strict `tokens` config block. RS256/ES256 with keys made by the openssl CLI are in
// Tests/IncidentServerTests/TokenSignatureTests.swift.
import Foundation
import Testing
@testable import IncidentCore

@Suite struct BearerTokenTests {
    static let secret = Array("an HS256 secret of at least thirty-two bytes".utf8)
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    static func json(_ object: [String: Any]) -> String {
        let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        return Base64URL.encode(Array(data))
    }

    /// An HS256 token over `claims` (header `alg` overridable to test refusals).
    static func hs256(_ claims: [String: Any], header: [String: Any] = ["alg": "HS256", "typ": "JWT"],
                      secret: [UInt8] = secret) -> String {
        let input = json(header) + "." + json(claims)
        return input + "." + Base64URL.encode(Digest.hmacSHA256(key: secret, message: Array(input.utf8)))
    }

    static func settings(issuer: String? = "https://issuer.test", audience: String? = "incident-manager")
        -> TokenSettings {
        TokenSettings(
            apiKeys: [APIKeyEntry(sha256: Digest.sha256(Array("key-for-secops".utf8)), identity: "secops")],
            jwt: JWTSettings(issuer: issuer, audience: audience, leewaySeconds: 30, keys: [
                JWTKey(algorithm: .hs256, source: .secretEnvironment("X"), material: .secret(secret)),
            ]))
    }

    static var good: [String: Any] { ["sub": "viewer", "iss": "https://issuer.test", "aud": "incident-manager",
                                      "exp": 1_800_000_600, "nbf": 1_799_999_000] }

    @Test func apiKeysAreFoundByHashAndUnknownOnesRefused() throws {
        let verifier = try BearerTokenVerifier(settings: Self.settings(), keys: TaggedKeys())
        #expect(try verifier.identity(forAuthorization: "Bearer key-for-secops") == "secops")
        #expect(try verifier.identity(forAuthorization: "bearer   key-for-secops") == "secops")
        let wrong = #expect(throws: TokenRejection.self) {
            try verifier.identity(forAuthorization: "Bearer key-for-secopz")
        }
        #expect(wrong?.reason == .unknownKey)
        #expect(wrong?.description.contains("key-for") == false)
        let scheme = #expect(throws: TokenRejection.self) { try verifier.identity(forAuthorization: "Basic abc") }
        #expect(scheme?.reason == .malformedHeader)
        #expect(Digest.constantTimeEqual([1, 2, 3], [1, 2, 3]))
        #expect(!Digest.constantTimeEqual([1, 2, 3], [1, 2, 4]))
        #expect(!Digest.constantTimeEqual([1, 2, 3], [1, 2]))
    }

    @Test func aValidHS256TokenNamesItsSubject() throws {
        let verifier = try BearerTokenVerifier(settings: Self.settings(), keys: TaggedKeys())
        #expect(try verifier.identity(forToken: Self.hs256(Self.good), now: Self.now) == "viewer")
        var listed = Self.good
        listed["aud"] = ["other", "incident-manager"]
        #expect(try verifier.identity(forToken: Self.hs256(listed), now: Self.now) == "viewer")
    }

    /// Each case changes the good claims (JSON null removes a claim) and names the refusal expected.
    @Test("refusals", arguments: [
        ("expired beyond the leeway", #"{"exp": 1799999969}"#, TokenRejection.Reason.expired),
        ("no exp", #"{"exp": null}"#, .expired),
        ("nbf in the future", #"{"nbf": 1800000031}"#, .notYetValid),
        ("other issuer", #"{"iss": "https://evil.test"}"#, .issuer),
        ("other audience", #"{"aud": "someone-else"}"#, .audience),
        ("audience list without ours", #"{"aud": ["a", "b"]}"#, .audience),
        ("no subject", #"{"sub": null}"#, .identityClaim),
        ("numeric subject", #"{"sub": 42}"#, .identityClaim),
    ])
    func claimRefusals(_ name: String, _ change: String, _ reason: TokenRejection.Reason) throws {
        var claims = Self.good
        let changes = try JSONSerialization.jsonObject(with: Data(change.utf8)) as! [String: Any]
        for (key, value) in changes {
            if value is NSNull { claims.removeValue(forKey: key) } else { claims[key] = value }
        }
        let verifier = try BearerTokenVerifier(settings: Self.settings(), keys: TaggedKeys())
        let error = #expect(throws: TokenRejection.self, "\(name)") {
            try verifier.identity(forToken: Self.hs256(claims), now: Self.now)
        }
        #expect(error?.reason == reason, "\(name)")
    }

    @Test func withinTheLeewayExpiryAndNotBeforeStillPass() throws {
        var claims = Self.good
        claims["exp"] = 1_799_999_980
        claims["nbf"] = 1_800_000_020
        let verifier = try BearerTokenVerifier(settings: Self.settings(), keys: TaggedKeys())
        #expect(try verifier.identity(forToken: Self.hs256(claims), now: Self.now) == "viewer")
    }

    @Test func forgedAndMalformedTokensAreRefused() throws {
        let verifier = try BearerTokenVerifier(settings: Self.settings(), keys: TaggedKeys())
        let forged = Self.hs256(Self.good, secret: Array("another secret that is long enough....".utf8))
        #expect(throws: TokenRejection(.signature, "signature does not verify with any configured key")) {
            try verifier.identity(forToken: forged, now: Self.now)
        }
        // alg "none" and algorithms without a configured key never reach signature checking.
        let none = Self.json(["alg": "none"]) + "." + Self.json(Self.good) + "."
        #expect((#expect(throws: TokenRejection.self) { try verifier.identity(forToken: none, now: Self.now) })?
            .reason == .algorithm)
        let rs = Self.hs256(Self.good, header: ["alg": "RS256"])
        #expect((#expect(throws: TokenRejection.self) { try verifier.identity(forToken: rs, now: Self.now) })?
            .reason == .algorithm)
        let critical = Self.hs256(Self.good, header: ["alg": "HS256", "crit": ["exp"]])
        #expect((#expect(throws: TokenRejection.self) { try verifier.identity(forToken: critical, now: Self.now) })?
            .reason == .malformed)
        for bad in ["a.b.c", "e30.e30.***", "W10.e30.", String(repeating: "a", count: 9000) + ".e30.e30"] {
            let error = #expect(throws: TokenRejection.self, "\(bad.prefix(20))") {
                try verifier.identity(forToken: bad, now: Self.now)
            }
            #expect(error?.reason == .malformed, "\(bad.prefix(20))")
        }
        // Tampering with the payload breaks the signature.
        let parts = Self.hs256(Self.good).split(separator: ".")
        var claims = Self.good
        claims["sub"] = "secops"
        let tampered = "\(parts[0]).\(Self.json(claims)).\(parts[2])"
        #expect((#expect(throws: TokenRejection.self) { try verifier.identity(forToken: tampered, now: Self.now) })?
            .reason == .signature)
    }

    @Test func noConfiguredTokensRefusesEveryToken() {
        let error = #expect(throws: TokenRejection.self) {
            try BearerTokenVerifier.refusingAll.identity(forAuthorization: "Bearer anything")
        }
        #expect(error?.reason == .notAccepted)
    }

    @Test func base64URLRejectsThePlainAlphabet() {
        #expect(Base64URL.decode("-_8") == [0xfb, 0xff])
        #expect(Base64URL.decode("+/8") == nil)
        #expect(Base64URL.encode([0xfb, 0xff]) == "-_8")
    }

    // MARK: config

    static let hash = String(repeating: "ab", count: 32)

    @Test func readsTheTokensBlock() throws {
        let yaml = """
        identities:
          ci-bot:
            permissions: [incident:read]
        tokens:
          api_keys:
            - identity: ci-bot
              sha256: \(Self.hash.uppercased())
          jwt:
            issuer: https://issuer.test
            audience: incident-manager
            identity_claim: email
            leeway: 45s
            keys:
              - {algorithm: RS256, public_key_file: /etc/im/jwt-rs256.pem, key_id: k1}
              - {algorithm: es256, public_key_file: /etc/im/jwt-es256.pem}
              - {algorithm: HS256, secret_env: IM_JWT_SECRET}
        """
        let config = try ServiceConfig.parse(yaml: yaml, file: "t.yaml")
        #expect(config.tokens.apiKeys == [APIKeyEntry(sha256: Array(repeating: 0xab, count: 32), identity: "ci-bot")])
        let jwt = try #require(config.tokens.jwt)
        #expect(jwt.identityClaim == "email")
        #expect(jwt.leewaySeconds == 45)
        #expect(jwt.keys.map(\.algorithm) == [.rs256, .es256, .hs256])
        #expect(jwt.keys[0].keyID == "k1")
        #expect(jwt.keys[2].source == .secretEnvironment("IM_JWT_SECRET"))
        #expect(jwt.keys.allSatisfy { $0.material == nil })
        #expect(ServiceConfig.defaults.tokens.acceptsTokens == false)
    }

    @Test("bad tokens blocks name the file, line and key", arguments: [
        ("tokens:\n  api_keys:\n    - {identity: secops, sha256: abc}\n", "tokens.api_keys[0].sha256", 3),
        ("tokens:\n  api_keys:\n    - {identity: nobody, sha256: \(hash)}\n", "tokens.api_keys[0].identity", 3),
        ("tokens:\n  api_keys:\n    - {identity: secops, key: hunter2}\n", "tokens.api_keys[0].key", 3),
        ("tokens:\n  jwt:\n    keys:\n      - {algorithm: HS256, secret: inline}\n", "tokens.jwt.keys[0].secret", 4),
        ("tokens:\n  jwt:\n    keys:\n      - {algorithm: HS256, public_key_file: k.pem}\n", "tokens.jwt.keys[0]", 4),
        ("tokens:\n  jwt:\n    keys:\n      - {algorithm: RS256, secret_env: X}\n", "tokens.jwt.keys[0]", 4),
        ("tokens:\n  jwt:\n    keys:\n      - {algorithm: none}\n", "tokens.jwt.keys[0].algorithm", 4),
        ("tokens:\n  jwt:\n    leeway: 1h\n    keys: []\n", "tokens.jwt.leeway", 3),
        ("tokens:\n  jwt:\n    issuer: x\n", "tokens.jwt", 3),
        ("tokens:\n  jwks_url: https://x\n", "tokens.jwks_url", 2),
    ])
    func refusesBadTokensBlocks(_ yaml: String, _ key: String, _ line: Int) {
        let error = #expect(throws: ConfigError.self, "\(key)") { try ServiceConfig.parse(yaml: yaml, file: "t.yaml") }
        #expect(error?.key == key, "\(yaml)")
        #expect(error?.line == line, "\(yaml)")
        #expect(error?.file == "t.yaml")
    }
}
