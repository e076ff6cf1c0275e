// Certificate checks through libcrypto's one door in this package (COpenSSL): the SHA-256 fingerprint of a client
// certificate, and whether a private key belongs to a certificate. CGRPC stays the door to grpc only.
internal import COpenSSL

/// The few things the server asks of a PEM certificate (the core does the TLS itself).
enum PEMCertificate {
    /// SHA-256 of the DER form of the first certificate in `pem`; nil when it holds none.
    static func sha256(of pem: String) -> [UInt8]? {
        var pem = pem
        return pem.withUTF8 { text -> [UInt8]? in
            guard let bio = BIO_new_mem_buf(text.baseAddress, Int32(text.count)) else { return nil }
            defer { BIO_free(bio) }
            guard let certificate = PEM_read_bio_X509(bio, nil, nil, nil) else { return nil }
            defer { X509_free(certificate) }
            let length = i2d_X509(certificate, nil)
            guard length > 0 else { return nil }
            // Into our own buffer: letting OpenSSL allocate would need OPENSSL_free, a macro Swift cannot call.
            var der = [UInt8](repeating: 0, count: Int(length))
            let written = der.withUnsafeMutableBufferPointer { buffer -> Int32 in
                var cursor = buffer.baseAddress
                return i2d_X509(certificate, &cursor)
            }
            guard written == length else { return nil }
            var digest = [UInt8](repeating: 0, count: Int(SHA256_DIGEST_LENGTH))
            _ = SHA256(der, der.count, &digest)
            return digest
        }
    }

    /// True when `keyPEM` holds the private key of the first certificate in `certificatePEM`.
    static func key(_ keyPEM: String, matchesCertificate certificatePEM: String) -> Bool {
        var certificateText = certificatePEM
        var keyText = keyPEM
        return certificateText.withUTF8 { certificateBytes in
            keyText.withUTF8 { keyBytes in
                guard let certificateBIO = BIO_new_mem_buf(certificateBytes.baseAddress, Int32(certificateBytes.count))
                else { return false }
                defer { BIO_free(certificateBIO) }
                guard let keyBIO = BIO_new_mem_buf(keyBytes.baseAddress, Int32(keyBytes.count)) else { return false }
                defer { BIO_free(keyBIO) }
                guard let certificate = PEM_read_bio_X509(certificateBIO, nil, nil, nil) else { return false }
                defer { X509_free(certificate) }
                guard let key = PEM_read_bio_PrivateKey(keyBIO, nil, nil, nil) else { return false }
                defer { EVP_PKEY_free(key) }
                return X509_check_private_key(certificate, key) == 1
            }
        }
    }
}
