// The optional limits on JWTs: a maximum lifetime (`tokens.jwt.max_lifetime`, exp - iat) and, per key, the
// identities a token signed with it may name (`keys[].identities`).
import Foundation
import Testing
@testable import IncidentCore

@Suite struct BearerTokenLimitsTests {
    typealias T = BearerTokenTests
    static let otherSecret = Array("a second HS256 secret, for the CI key only".utf8)

    static func settings(maxLifetime: Double? = nil) -> TokenSettings {
        TokenSettings(jwt: JWTSettings(leewaySeconds: 30, keys: [
            JWTKey(algorithm: .hs256, keyID: "sso", source: .secretEnvironment("A"), material: .secret(T.secret)),
            JWTKey(algorithm: .hs256, keyID: "ci", source: .secretEnvironment("B"), material: .secret(otherSecret),
                   identities: ["ci-bot"]),
        ], maxLifetimeSeconds: maxLifetime))
    }

    static func claims(_ sub: String, iat: Double?, exp: Double = 1_800_000_600) -> [String: Any] {
        var claims: [String: Any] = ["sub": sub, "exp": exp]
        if let iat { claims["iat"] = iat }
        return claims
    }

    @Test func maxLifetimeRefusesLongLivedTokensAndTokensWithoutIat() throws {
        let verifier = try BearerTokenVerifier(settings: Self.settings(maxLifetime: 3600), keys: TaggedKeys())
        let exactlyAnHour = T.hs256(Self.claims("viewer", iat: 1_800_000_600 - 3600))
        #expect(try verifier.identity(forToken: exactlyAnHour, now: T.now) == "viewer")
        let tooLong = #expect(throws: TokenRejection.self) {
            try verifier.identity(forToken: T.hs256(Self.claims("viewer", iat: 1_800_000_600 - 3601)), now: T.now)
        }
        #expect(tooLong?.reason == .lifetime)
        #expect(tooLong?.description.contains("max_lifetime 3600s") == true)
        let noIat = #expect(throws: TokenRejection.self) {
            try verifier.identity(forToken: T.hs256(Self.claims("viewer", iat: nil)), now: T.now)
        }
        #expect(noIat?.reason == .lifetime)
        #expect(noIat?.description.contains("iat") == true)
    }

    @Test func withoutMaxLifetimeAnyLifetimeIsAccepted() throws {
        let verifier = try BearerTokenVerifier(settings: Self.settings(), keys: TaggedKeys())
        #expect(try verifier.identity(forToken: T.hs256(Self.claims("viewer", iat: 0)), now: T.now) == "viewer")
        #expect(try verifier.identity(forToken: T.hs256(Self.claims("viewer", iat: nil)), now: T.now) == "viewer")
    }

    @Test func aKeyLimitedToIdentitiesCannotNameAnother() throws {
        let verifier = try BearerTokenVerifier(settings: Self.settings(), keys: TaggedKeys())
        let ci = ["alg": "HS256", "typ": "JWT", "kid": "ci"]
        #expect(try verifier.identity(
            forToken: T.hs256(Self.claims("ci-bot", iat: nil), header: ci, secret: Self.otherSecret), now: T.now)
            == "ci-bot")
        let escalation = #expect(throws: TokenRejection.self) {
            try verifier.identity(
                forToken: T.hs256(Self.claims("admin", iat: nil), header: ci, secret: Self.otherSecret), now: T.now)
        }
        #expect(escalation?.reason == .identityNotAllowed)
        #expect(escalation?.description.contains("ci-bot") == true)
        // Without a kid the CI key is still tried, and still may not name another identity.
        let noKid = #expect(throws: TokenRejection.self) {
            try verifier.identity(forToken: T.hs256(Self.claims("admin", iat: nil), secret: Self.otherSecret), now: T.now)
        }
        #expect(noKid?.reason == .identityNotAllowed)
        // The unrestricted key names any identity.
        #expect(try verifier.identity(forToken: T.hs256(Self.claims("admin", iat: nil)), now: T.now) == "admin")
    }

    @Test func readsMaxLifetimeAndKeyIdentities() throws {
        let yaml = """
        identities:
          ci-bot: {permissions: [incident:read]}
        tokens:
          jwt:
            max_lifetime: 1h
            keys:
              - {algorithm: HS256, secret_env: SSO_SECRET}
              - {algorithm: HS256, secret_env: CI_SECRET, identities: [ci-bot]}
        """
        let jwt = try #require(try ServiceConfig.parse(yaml: yaml, file: "t.yaml").tokens.jwt)
        #expect(jwt.maxLifetimeSeconds == 3600)
        #expect(jwt.keys.map(\.identities) == [nil, ["ci-bot"]])
    }

    @Test("bad limits name the file, line and key", arguments: [
        ("tokens:\n  jwt:\n    max_lifetime: 0s\n    keys:\n      - {algorithm: HS256, secret_env: X}\n",
         "tokens.jwt.max_lifetime", 3),
        ("tokens:\n  jwt:\n    max_lifetime: forever\n    keys:\n      - {algorithm: HS256, secret_env: X}\n",
         "tokens.jwt.max_lifetime", 3),
        ("tokens:\n  jwt:\n    keys:\n      - {algorithm: HS256, secret_env: X, identities: [nobody]}\n",
         "tokens.jwt.keys[0].identities", 4),
        ("tokens:\n  jwt:\n    keys:\n      - {algorithm: HS256, secret_env: X, identities: []}\n",
         "tokens.jwt.keys[0].identities", 4),
    ])
    func refusesBadLimits(_ yaml: String, _ key: String, _ line: Int) {
        let error = #expect(throws: ConfigError.self, "\(key)") { try ServiceConfig.parse(yaml: yaml, file: "t.yaml") }
        #expect(error?.key == key, "\(yaml)")
        #expect(error?.line == line, "\(yaml)")
    }
}
