// The identity of a client certificate another TLS stack verified (the HTTP door's swift-nio-ssl hands over DER
// bytes): the same names and fingerprint the gRPC core reports, read with libcrypto so both doors agree.
internal import COpenSSL

extension PeerIdentity {
    /// The common name, DNS and URI subject alternative names and SHA-256 fingerprint of a DER certificate; nil
    /// when the bytes are not one. The caller must already have verified the certificate against the client CA.
    public init?(derCertificate der: [UInt8]) {
        guard !der.isEmpty else { return nil }
        let parsed: OpaquePointer? = der.withUnsafeBufferPointer { buffer in
            var cursor: UnsafePointer<UInt8>? = buffer.baseAddress
            return d2i_X509(nil, &cursor, buffer.count)
        }
        guard let certificate = parsed else { return nil }
        defer { X509_free(certificate) }
        var digest = [UInt8](repeating: 0, count: Int(SHA256_DIGEST_LENGTH))
        _ = SHA256(der, der.count, &digest)
        let hex = Array("0123456789abcdef".utf8)
        let fingerprint = String(decoding: digest.flatMap { [hex[Int($0 >> 4)], hex[Int($0 & 0xF)]] }, as: UTF8.self)
        self.init(commonName: Self.commonName(of: certificate), dnsNames: Self.alternativeNames(of: certificate, type: GEN_DNS),
                  uris: Self.alternativeNames(of: certificate, type: GEN_URI), fingerprintSHA256: fingerprint)
    }

    private static func commonName(of certificate: OpaquePointer) -> String? {
        guard let subject = X509_get_subject_name(certificate) else { return nil }
        let index = X509_NAME_get_index_by_NID(subject, NID_commonName, -1)
        guard index >= 0, let entry = X509_NAME_get_entry(subject, index),
              let data = X509_NAME_ENTRY_get_data(entry) else { return nil }
        return text(of: data)
    }

    private static func alternativeNames(of certificate: OpaquePointer, type: Int32) -> [String] {
        guard let raw = X509_get_ext_d2i(certificate, NID_subject_alt_name, nil, nil) else { return [] }
        let names = OpaquePointer(raw)
        // GENERAL_NAMES_free: the stack and every name in it are ours once X509_get_ext_d2i returned them.
        defer { GENERAL_NAMES_free(names) }
        var found: [String] = []
        for index in 0..<max(0, OPENSSL_sk_num(names)) {
            guard let element = OPENSSL_sk_value(names, index) else { continue }
            let name = element.assumingMemoryBound(to: GENERAL_NAME.self)
            guard name.pointee.type == type, let value = name.pointee.d.ia5 else { continue }
            if let string = text(of: value) { found.append(string) }
        }
        return found
    }

    private static func text(of string: UnsafePointer<ASN1_STRING>) -> String? {
        guard let bytes = ASN1_STRING_get0_data(string) else { return nil }
        let length = Int(ASN1_STRING_length(string))
        return String(decoding: UnsafeBufferPointer(start: bytes, count: max(0, length)), as: UTF8.self)
    }
}
