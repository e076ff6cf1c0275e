// Reading the client certificate's identity from a call's auth context.
internal import CGRPC
import Synchronization

/// Turns auth contexts into `PeerIdentity` values, remembering recent certificates so a busy
/// connection does not parse and hash the same certificate on every call.
final class PeerIdentityReader: Sendable {
    private let cache = Mutex<[String: PeerIdentity]>([:])
    private static let cacheLimit = 1024

    /// The identity of the call's client certificate, or nil when there is none (plaintext, TLS only).
    func identity(of call: OpaquePointer) -> PeerIdentity? {
        guard let context = grpc_call_auth_context(call) else { return nil }
        defer { grpc_auth_context_release(context) }
        guard let pem = Self.values(context, GRPC_X509_PEM_CERT_PROPERTY_NAME).first else { return nil }
        if let known = cache.withLock({ $0[pem] }) { return known }
        let identity = PeerIdentity(
            commonName: Self.values(context, GRPC_X509_CN_PROPERTY_NAME).first,
            dnsNames: Self.values(context, GRPC_PEER_DNS_PROPERTY_NAME),
            uris: Self.values(context, GRPC_PEER_URI_PROPERTY_NAME),
            fingerprintSHA256: Self.fingerprint(pem))
        cache.withLock { cache in
            if cache.count >= Self.cacheLimit { cache.removeAll(keepingCapacity: true) }
            cache[pem] = identity
        }
        return identity
    }

    private static func values(_ context: OpaquePointer, _ name: String) -> [String] {
        var iterator = grpc_auth_context_find_properties_by_name(context, name)
        var found: [String] = []
        while let property = grpc_auth_property_iterator_next(&iterator) {
            guard let value = property.pointee.value else { continue }
            let bytes = UnsafeRawBufferPointer(start: value, count: property.pointee.value_length)
            found.append(String(decoding: bytes, as: UTF8.self))
        }
        return found
    }

    private static func fingerprint(_ pem: String) -> String {
        guard let digest = PEMCertificate.sha256(of: pem) else { return "" }
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        var text = [UInt8]()
        text.reserveCapacity(64)
        for byte in digest {
            text.append(hex[Int(byte >> 4)])
            text.append(hex[Int(byte & 0xF)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
