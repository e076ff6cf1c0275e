// Certificate rotation: the core asks before every handshake whether the server's TLS material changed.
// We answer from the files' stamps (stat), re-reading them only when they changed or SIGHUP asked.
internal import CGRPC
import Logging
import Synchronization

/// Serves the current certificate config to the core's fetcher callback; lives as long as the server.
final class CertificateReloader: Sendable {
    let certificateChainPath: String
    let privateKeyPath: String
    let clientCAPath: String?
    private let logger: Logger
    private let state = Mutex<State>(State())

    private struct State {
        var stamps: [PEMFile.Stamp?] = []
        var forceReload = false
        var loadedOnce = false
    }

    init(certificateChainPath: String, privateKeyPath: String, clientCAPath: String?, logger: Logger)
        throws(ServerError)
    {
        self.logger = logger
        self.certificateChainPath = certificateChainPath
        self.privateKeyPath = privateKeyPath
        self.clientCAPath = clientCAPath
        _ = try Self.load(chain: certificateChainPath, key: privateKeyPath, clientCA: clientCAPath)
    }

    /// Makes the next handshake re-read the files even if their stamps look unchanged.
    func requestReload() {
        state.withLock { $0.forceReload = true }
    }

    private var paths: [String] { [certificateChainPath, privateKeyPath] + (clientCAPath.map { [$0] } ?? []) }

    /// Called by the core on its threads: keep it cheap and never throw across C.
    func fetch(_ config: UnsafeMutablePointer<OpaquePointer?>?) -> grpc_ssl_certificate_config_reload_status {
        let stamps = paths.map(PEMFile.stamp)
        let mustLoad = state.withLock { state in
            state.forceReload || !state.loadedOnce || state.stamps != stamps
        }
        guard mustLoad else { return GRPC_SSL_CERTIFICATE_CONFIG_RELOAD_UNCHANGED }
        do {
            let material = try Self.load(chain: certificateChainPath, key: privateKeyPath, clientCA: clientCAPath)
            config?.pointee = material.makeCoreConfig()
            let first = state.withLock { state in
                defer {
                    state.stamps = stamps
                    state.forceReload = false
                    state.loadedOnce = true
                }
                return !state.loadedOnce
            }
            if !first { logger.info("TLS certificate material reloaded", metadata: ["path": "\(certificateChainPath)"]) }
            return GRPC_SSL_CERTIFICATE_CONFIG_RELOAD_NEW
        } catch {
            // Half-written files during a rotation: keep serving the old material and retry next handshake.
            logger.warning("certificate reload skipped, keeping the previous material", metadata: ["error": "\(error)"])
            let loadedOnce = state.withLock { $0.loadedOnce }
            return loadedOnce ? GRPC_SSL_CERTIFICATE_CONFIG_RELOAD_UNCHANGED : GRPC_SSL_CERTIFICATE_CONFIG_RELOAD_FAIL
        }
    }

    private struct Material {
        var chain: String
        var key: String
        var clientCA: String?

        func makeCoreConfig() -> OpaquePointer? {
            chain.withCString { chainPointer in
                key.withCString { keyPointer in
                    var pair = grpc_ssl_pem_key_cert_pair(private_key: keyPointer, cert_chain: chainPointer)
                    if let clientCA {
                        return clientCA.withCString { grpc_ssl_server_certificate_config_create($0, &pair, 1) }
                    }
                    return grpc_ssl_server_certificate_config_create(nil, &pair, 1)
                }
            }
        }
    }

    private static func load(chain: String, key: String, clientCA: String?) throws(ServerError) -> Material {
        let chainText = try PEMFile.read(chain)
        let keyText = try PEMFile.read(key)
        let caText = try clientCA.map { path throws(ServerError) in try PEMFile.read(path) }
        guard PEMCertificate.key(keyText, matchesCertificate: chainText) else { throw .keyDoesNotMatchCertificate(certificatePath: chain, keyPath: key) }
        return Material(chain: chainText, key: keyText, clientCA: caText)
    }
}
