// Public-key signature checks through OpenSSL's libcrypto: RS256 (RSASSA-PKCS1-v1_5 with SHA-256) and ES256
// (ECDSA P-256 with SHA-256, JWS's raw r||s signature form) for bearer JWTs. No cryptography is done here by
// hand: this file only moves bytes in and out of libcrypto. IncidentCore's JWT verifier sees these keys only as
// `SignatureKey`s.
internal import COpenSSL
import IncidentCore

/// Loads PEM public keys into libcrypto for the bearer-token verifier.
public struct OpenSSLSignatureKeys: SignatureKeyLoader {
    public init() {}

    public func key(pem: String, algorithm: JWTAlgorithm) throws(SignatureKeyError) -> any SignatureKey {
        try OpenSSLSignatureKey(pem: pem, algorithm: algorithm)
    }
}

/// A public key loaded from PEM into libcrypto, checked to suit one JWS algorithm.
public final class OpenSSLSignatureKey: SignatureKey, @unchecked Sendable {
    // Sound as Sendable: the EVP_PKEY is only read after init (each verification uses its own EVP_MD_CTX),
    // which libcrypto allows from several threads at once; deinit frees it once.
    private let key: OpaquePointer
    public let algorithm: JWTAlgorithm

    /// Reads a `-----BEGIN PUBLIC KEY-----` PEM. RS256 needs an RSA key of 2048 bits or more, ES256 a P-256 key.
    public init(pem: String, algorithm: JWTAlgorithm) throws(SignatureKeyError) {
        let loaded: OpaquePointer? = pem.withCString { text in
            // The memory BIO reads the C string in place; it is freed before `text` goes away.
            guard let bio = BIO_new_mem_buf(text, -1) else { return nil }
            defer { BIO_free(bio) }
            return PEM_read_bio_PUBKEY(bio, nil, nil, nil)
        }
        ERR_clear_error()
        guard let loaded else { throw SignatureKeyError(problem: "is not a PEM public key (BEGIN PUBLIC KEY)") }
        let type = EVP_PKEY_get_base_id(loaded)
        let bits = EVP_PKEY_get_bits(loaded)
        var problem: String?
        switch algorithm {
        case .rs256:
            if type != EVP_PKEY_RSA { problem = "is not an RSA key, which RS256 needs" }
            else if bits < 2048 { problem = "is an RSA key of \(bits) bits; RS256 needs at least 2048" }
        case .es256:
            var name = [CChar](repeating: 0, count: 64)
            var length = 0
            let named = EVP_PKEY_get_group_name(loaded, &name, name.count, &length) == 1
            let group = named ? String(decoding: name.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self) : ""
            if type != EVP_PKEY_EC || !["prime256v1", "P-256", "secp256r1"].contains(group) {
                problem = "is not an EC P-256 key, which ES256 needs"
            }
        case .hs256:
            problem = "HS256 uses a shared secret, not a public key"
        }
        if let problem {
            EVP_PKEY_free(loaded)
            throw SignatureKeyError(problem: problem)
        }
        self.key = loaded
        self.algorithm = algorithm
    }

    deinit {
        EVP_PKEY_free(key)
    }

    /// Whether `signature` (in JWS form) signs `message` under this key.
    public func verify(signature: [UInt8], message: [UInt8]) -> Bool {
        var encoded = signature
        if algorithm == .es256 {
            guard let der = Self.derSignature(rawP256: signature) else { return false }
            encoded = der
        }
        guard let context = EVP_MD_CTX_new() else { return false }
        defer {
            EVP_MD_CTX_free(context)
            ERR_clear_error()
        }
        guard EVP_DigestVerifyInit(context, nil, EVP_sha256(), nil, key) == 1 else { return false }
        let result = encoded.withUnsafeBufferPointer { s in
            message.withUnsafeBufferPointer { m in
                EVP_DigestVerify(context, s.baseAddress, s.count, m.baseAddress, m.count)
            }
        }
        return result == 1
    }

    /// JWS carries an ES256 signature as r||s, 32 bytes each; libcrypto verifies the DER `ECDSA-Sig-Value`.
    static func derSignature(rawP256 raw: [UInt8]) -> [UInt8]? {
        guard raw.count == 64, let signature = ECDSA_SIG_new() else { return nil }
        defer { ECDSA_SIG_free(signature) }
        let (r, s) = raw.withUnsafeBufferPointer { bytes in
            (BN_bin2bn(bytes.baseAddress, 32, nil), BN_bin2bn(bytes.baseAddress! + 32, 32, nil))
        }
        guard let r, let s, ECDSA_SIG_set0(signature, r, s) == 1 else {
            // On failure ownership did not pass to the signature.
            BN_free(r)
            BN_free(s)
            return nil
        }
        let length = i2d_ECDSA_SIG(signature, nil)
        guard length > 0 else { return nil }
        var der = [UInt8](repeating: 0, count: Int(length))
        let written = der.withUnsafeMutableBufferPointer { buffer in
            var cursor = buffer.baseAddress
            return i2d_ECDSA_SIG(signature, &cursor)
        }
        return written == length ? der : nil
    }
}
