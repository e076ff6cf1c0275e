// The verifier's side of public keys (RS256/ES256): it asks a `SignatureKeyLoader` for the configured keys and
// checks signatures only through them. The libcrypto keys themselves are tested through the server
// (Tests/IncidentServerTests/TokenIdentityTests.swift, keys made by the openssl CLI).
import Foundation
import Testing
@testable import IncidentCore

/// A stand-in loader for unit tests of the verifier: a "PEM" `tag:NAME` is a key whose signatures are NAME's
/// bytes followed by the message, so which key verified is visible without any cryptography.
struct TaggedKeys: SignatureKeyLoader {
    struct Key: SignatureKey {
        let tag: [UInt8]
        func verify(signature: [UInt8], message: [UInt8]) -> Bool { signature == tag + message }
    }

    func key(pem: String, algorithm: JWTAlgorithm) throws(SignatureKeyError) -> any SignatureKey {
        guard pem.hasPrefix("tag:") else { throw SignatureKeyError(problem: "is not a tag key") }
        return Key(tag: Array(pem.dropFirst(4).utf8))
    }
}

@Suite struct SignatureKeyLoaderTests {
    typealias T = BearerTokenTests

    static func settings(_ keys: [JWTKey]) -> TokenSettings {
        TokenSettings(jwt: JWTSettings(leewaySeconds: 30, keys: keys))
    }

    static func key(_ algorithm: JWTAlgorithm, _ id: String, pem: String, identities: Set<String>? = nil) -> JWTKey {
        JWTKey(algorithm: algorithm, keyID: id, source: .publicKeyFile("/keys/\(id).pem"),
               material: .publicKeyPEM(pem), identities: identities)
    }

    /// A token signed as the `tag:` key named `signer` would sign it.
    static func token(_ algorithm: String, kid: String?, signer: String, claims: [String: Any]) -> String {
        var header: [String: Any] = ["alg": algorithm, "typ": "JWT"]
        header["kid"] = kid
        let input = T.json(header) + "." + T.json(claims)
        return input + "." + Base64URL.encode(Array(signer.utf8) + Array(input.utf8))
    }

    @Test func publicKeySignaturesAreCheckedByTheLoadedKeysOfTheTokensAlgorithmAndKid() throws {
        let verifier = try BearerTokenVerifier(settings: Self.settings([
            Self.key(.rs256, "a", pem: "tag:alpha"),
            Self.key(.es256, "b", pem: "tag:beta", identities: ["ci-bot"]),
        ]), keys: TaggedKeys())
        let claims: [String: Any] = ["sub": "viewer", "exp": 1_800_000_600]
        #expect(try verifier.identity(forToken: Self.token("RS256", kid: "a", signer: "alpha", claims: claims),
                                      now: T.now) == "viewer")
        #expect(try verifier.identity(forToken: Self.token("RS256", kid: nil, signer: "alpha", claims: claims),
                                      now: T.now) == "viewer")
        // The right signature under another algorithm's key, or for another kid, is no signature.
        for token in [Self.token("ES256", kid: "b", signer: "alpha", claims: claims),
                      Self.token("RS256", kid: "b", signer: "alpha", claims: claims),
                      Self.token("RS256", kid: "a", signer: "beta", claims: claims)] {
            let refused = #expect(throws: TokenRejection.self) { try verifier.identity(forToken: token, now: T.now) }
            #expect(refused?.reason == .signature)
        }
        // The ES256 key may only name ci-bot.
        let named = #expect(throws: TokenRejection.self) {
            try verifier.identity(forToken: Self.token("ES256", kid: "b", signer: "beta", claims: claims), now: T.now)
        }
        #expect(named?.reason == .identityNotAllowed)
    }

    @Test func aKeyTheLoaderRefusesIsAConfigErrorAtItsIndex() {
        let refused = #expect(throws: TokenKeyError.self) {
            _ = try BearerTokenVerifier(settings: Self.settings([
                Self.key(.rs256, "a", pem: "tag:alpha"),
                Self.key(.es256, "b", pem: "-----BEGIN PUBLIC KEY-----"),
            ]), keys: TaggedKeys())
        }
        #expect(refused?.index == 1)
        #expect(refused?.problem == "the public key is not a tag key")
    }
}
