// Bearer tokens as per-call identities over real mTLS and Postgres: API keys by hash, RS256/ES256 JWTs signed by
// the openssl CLI, HS256 from the environment, and every refusal UNAUTHENTICATED; plus loading the keys at start.
import Foundation
import IncidentAPI
import IncidentCore
import IncidentServer
import RPC
import Testing

@Suite("Bearer token identities", .enabled(if: TestDatabase.shouldRun), .serialized)
struct TokenIdentityTests {
    static let apiKey = "im-test-key-0123456789abcdef"
    static let hsSecret = "an HS256 secret of at least thirty-two bytes"

    static func config(pki: ServicePKI) throws -> ServiceConfig {
        var config = ServiceHarness.defaultConfig
        config.identities.append(IdentityPolicy(name: "ci-bot", permissions: [.incidentRead, .incidentUpdate]))
        func pem(_ name: String) throws -> JWTKey.Material {
            .publicKeyPEM(try String(contentsOfFile: pki.path(name), encoding: .utf8))
        }
        config.tokens = TokenSettings(
            apiKeys: [APIKeyEntry(sha256: Digest.sha256(Array(apiKey.utf8)), identity: "ci-bot")],
            jwt: JWTSettings(issuer: "https://issuer.test", audience: "incident-manager", leewaySeconds: 30, keys: [
                JWTKey(algorithm: .rs256, keyID: "rsa-1", source: .publicKeyFile(pki.path("jwt-rs256.pub.pem")),
                       material: try pem("jwt-rs256.pub.pem")),
                JWTKey(algorithm: .es256, source: .publicKeyFile(pki.path("jwt-es256.pub.pem")),
                       material: try pem("jwt-es256.pub.pem")),
                JWTKey(algorithm: .hs256, source: .secretEnvironment("IM_TEST_HS256"),
                       material: .secret(Array(hsSecret.utf8))),
            ]))
        return config
    }

    static func bearer(_ token: String) -> CallOptions {
        CallOptions(timeout: .seconds(30), metadata: Metadata(["authorization": "Bearer " + token]))
    }

    @Test("a valid API key or JWT makes the call act as its identity; no token keeps the certificate's")
    func acceptedTokens() async throws {
        let harness = try await ServiceHarness.start(config: try Self.config(pki: .shared))
        let pki = harness.pki
        let created = try await harness.client("llm-shield").createIncident(Sample.event(), options: .test)
        let viewer = try harness.client("viewer")
        let note = UpdateIncidentRequest.with(id: created.incidentId, note: "via api key")

        // viewer's certificate alone may not update; with ci-bot's API key it may, and ci-bot is the actor.
        let denied = await status { _ = try await viewer.updateIncident(note, options: .test) }
        #expect(denied?.code == .permissionDenied)
        let updated = try await viewer.updateIncident(note, options: Self.bearer(Self.apiKey))
        #expect(updated.timeline.last?.actor == "ci-bot")
        #expect(updated.encryptedPayload.isEmpty, "ci-bot lacks incident:read_payload")

        // A certificate no identity knows still gets in with a token: the token names the identity.
        let stranger = try harness.client("stranger")
        let rs = try TokenMaker.jwt("RS256", keyFile: pki.path("jwt-rs256.key"),
                                    claims: TokenMaker.claims(subject: "secops"), keyID: "rsa-1")
        let asSecops = try await stranger.getIncident(.with(id: created.incidentId), options: Self.bearer(rs))
        #expect(!asSecops.encryptedPayload.isEmpty, "secops reads payloads")
        let es = try TokenMaker.jwt("ES256", keyFile: pki.path("jwt-es256.key"),
                                    claims: TokenMaker.claims(subject: "viewer"))
        let asViewer = try await stranger.getIncident(.with(id: created.incidentId), options: Self.bearer(es))
        #expect(asViewer.encryptedPayload.isEmpty)
        let hs = BearerTokenTestsSupport.hs256(claims: TokenMaker.claims(subject: "secops"), secret: Self.hsSecret)
        var ack = UpdateIncidentRequest.with(id: created.incidentId, status: "ACKNOWLEDGED")
        ack.note = "by jwt"
        let acked = try await stranger.updateIncident(ack, options: Self.bearer(hs))
        #expect(acked.status == "ACKNOWLEDGED")
        #expect(acked.timeline.last?.actor == "secops")
        let noToken = await status { _ = try await stranger.getIncident(.with(id: created.incidentId), options: .test) }
        #expect(noToken?.code == .permissionDenied)
        await harness.stop()
    }

    @Test("expired, forged, unknown and malformed tokens are UNAUTHENTICATED, never the certificate's identity")
    func refusedTokens() async throws {
        let harness = try await ServiceHarness.start(config: try Self.config(pki: .shared))
        let pki = harness.pki
        let created = try await harness.client("llm-shield").createIncident(Sample.event(), options: .test)
        let secops = try harness.client("secops")
        let expired = try TokenMaker.jwt("RS256", keyFile: pki.path("jwt-rs256.key"),
                                         claims: TokenMaker.claims(subject: "secops", expiresIn: -120))
        let forged = try TokenMaker.jwt("RS256", keyFile: pki.path("jwt-rogue-rs256.key"),
                                        claims: TokenMaker.claims(subject: "secops"))
        let otherIssuer = try TokenMaker.jwt("ES256", keyFile: pki.path("jwt-es256.key"),
                                             claims: TokenMaker.claims(subject: "secops", issuer: "https://evil"))
        let cases: [(String, String, String)] = [
            ("expired", expired, "expired"),
            ("forged", forged, "signature"),
            ("other issuer", otherIssuer, "issuer"),
            ("unknown api key", "not-the-key-0123456789", "API key"),
            ("garbage jwt", "a.b.c", "not a valid JWT"),
        ]
        for (name, token, expected) in cases {
            // secops's own certificate would be allowed: a bad token must not fall back to it.
            let refused = await status {
                _ = try await secops.getIncident(.with(id: created.incidentId), options: Self.bearer(token))
            }
            #expect(refused?.code == .unauthenticated, "\(name)")
            #expect(refused?.message.contains(expected) == true, "\(name): \(refused?.message ?? "")")
            #expect(refused?.message.contains(token) == false, "\(name) must not echo the token")
        }
        let basic = await status {
            _ = try await secops.getIncident(.with(id: created.incidentId), options: CallOptions(
                timeout: .seconds(30), metadata: Metadata(["authorization": "Basic c2Vjb3Bz"])))
        }
        #expect(basic?.code == .unauthenticated)
        let unknownSubject = try TokenMaker.jwt("RS256", keyFile: pki.path("jwt-rs256.key"),
                                                claims: TokenMaker.claims(subject: "mallory"))
        let unknown = await status {
            _ = try await secops.getIncident(.with(id: created.incidentId), options: Self.bearer(unknownSubject))
        }
        #expect(unknown?.code == .permissionDenied)
        await harness.stop()
    }
}

@Suite("Bearer token keys at start")
struct TokenKeyLoadingTests {
    let pki = ServicePKI.shared

    func resolve(_ tokensYAML: String, environment: [String: String] = [:]) throws -> ServiceConfig {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("tokens-\(UUID().uuidString).yaml")
        try ("identities:\n  secops:\n    permissions: [incident:read]\n" + tokensYAML)
            .write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let options = try ServerOptions(arguments: [
            "--config", file.path, "--tls-cert", pki.path("server.pem"), "--tls-key", pki.path("server.key"),
            "--client-ca", pki.path("ca.pem"), "--database-url", "postgresql://x",
        ])
        return try options.resolve(environment: environment)
    }

    @Test func loadsPublicKeysFromFilesAndSecretsFromTheEnvironment() throws {
        let config = try resolve("""
            tokens:
              jwt:
                keys:
                  - {algorithm: RS256, public_key_file: \(pki.path("jwt-rs256.pub.pem"))}
                  - {algorithm: ES256, public_key_file: \(pki.path("jwt-es256.pub.pem"))}
                  - {algorithm: HS256, secret_env: IM_SECRET}
            """, environment: ["IM_SECRET": TokenIdentityTests.hsSecret])
        let keys = try #require(config.tokens.jwt?.keys)
        #expect(keys.allSatisfy { $0.material != nil })
        #expect(keys[2].material == .secret(Array(TokenIdentityTests.hsSecret.utf8)))
        #expect(!String(describing: keys[2].material!).contains("thirty"), "a secret's description hides it")
    }

    @Test func refusesMissingOrUnsuitableKeys() throws {
        let cases: [(String, [String: String], String, String)] = [
            ("{algorithm: HS256, secret_env: IM_SECRET}", [:], "tokens.jwt.keys[0].secret_env", "not set"),
            ("{algorithm: HS256, secret_env: IM_SECRET}", ["IM_SECRET": "short"], "tokens.jwt.keys[0].secret_env",
             "32"),
            ("{algorithm: RS256, public_key_file: /nonexistent.pem}", [:], "tokens.jwt.keys[0].public_key_file",
             "/nonexistent.pem"),
            ("{algorithm: ES256, public_key_file: \(pki.path("jwt-rs256.pub.pem"))}", [:], "tokens.jwt.keys[0]",
             "P-256"),
            ("{algorithm: RS256, public_key_file: \(pki.path("ca.pem"))}", [:], "tokens.jwt.keys[0]", "PEM public key"),
        ]
        for (key, environment, path, problem) in cases {
            let error = #expect(throws: ConfigError.self, "\(key)") {
                try resolve("tokens:\n  jwt:\n    keys:\n      - \(key)\n", environment: environment)
            }
            #expect(error?.key == path, "\(key)")
            #expect(error?.problem.contains(problem) == true, "\(key): \(error?.problem ?? "")")
        }
    }
}

/// HS256 tokens for the server tests (openssl's CLI has no JWT command; its HMAC is libcrypto's, as ours is).
enum BearerTokenTestsSupport {
    static func hs256(claims: [String: Any], secret: String) -> String {
        let input = TokenMaker.json(["alg": "HS256", "typ": "JWT"]) + "." + TokenMaker.json(claims)
        let mac = try! TokenMaker.openssl(["dgst", "-sha256", "-mac", "HMAC", "-macopt", "key:" + secret, "-binary"],
                                          input: Array(input.utf8))
        return input + "." + TokenMaker.base64URL(mac)
    }
}
