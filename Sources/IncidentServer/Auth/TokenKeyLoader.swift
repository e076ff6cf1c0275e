// Loads the JWT verification keys the config names: PEM public keys from files, HS256 secrets from the
// environment (never from the YAML). Run once at start so a missing or unusable key stops the server with the
// file, the key and the problem, like every other config error.
import SignatureKeys
import Foundation
import IncidentCore

extension TokenSettings {
    /// These settings with every JWT key's material loaded and checked by building a verifier.
    func loadingKeys(environment: [String: String], file: String) throws(ConfigError) -> TokenSettings {
        guard var jwt else { return self }
        for index in jwt.keys.indices {
            let key = "tokens.jwt.keys[\(index)]"
            switch jwt.keys[index].source {
            case .publicKeyFile(let path):
                guard let pem = try? String(contentsOfFile: path, encoding: .utf8) else {
                    throw ConfigError(file: file, key: "\(key).public_key_file",
                                      problem: "\(path) does not exist or cannot be read")
                }
                jwt.keys[index].material = .publicKeyPEM(pem)
            case .secretEnvironment(let name):
                guard let secret = environment[name], !secret.isEmpty else {
                    throw ConfigError(file: file, key: "\(key).secret_env",
                                      problem: "the environment variable \(name) is not set")
                }
                // RFC 7518 §3.2: an HS256 key must be at least as long as the hash.
                guard secret.utf8.count >= 32 else {
                    throw ConfigError(file: file, key: "\(key).secret_env",
                                      problem: "the secret in \(name) is \(secret.utf8.count) bytes; HS256 needs 32 "
                                      + "or more")
                }
                jwt.keys[index].material = .secret(Array(secret.utf8))
            }
        }
        var loaded = self
        loaded.jwt = jwt
        do {
            _ = try BearerTokenVerifier(settings: loaded, keys: OpenSSLSignatureKeys())
        } catch {
            let source = jwt.keys[error.index].source
            let field = if case .publicKeyFile(let path) = source { "public_key_file: \(path)" } else { "secret_env" }
            throw ConfigError(file: file, key: "tokens.jwt.keys[\(error.index)]", problem: "\(field): \(error.problem)")
        }
        return loaded
    }
}
