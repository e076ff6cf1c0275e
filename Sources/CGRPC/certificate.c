// Certificate fingerprint: OpenSSL parses the PEM the core hands us and hashes its DER form.
#include "CGRPC.h"
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

int cgrpc_pem_certificate_sha256(const char *pem, size_t pem_length, uint8_t digest[32]) {
    BIO *bio = BIO_new_mem_buf(pem, (int)pem_length);
    if (!bio) return -1;
    X509 *certificate = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    BIO_free(bio);
    if (!certificate) return -1;
    unsigned char *der = NULL;
    int der_length = i2d_X509(certificate, &der);
    X509_free(certificate);
    if (der_length <= 0) return -1;
    SHA256(der, (size_t)der_length, digest);
    OPENSSL_free(der);
    return 0;
}

int cgrpc_pem_key_matches_certificate(const char *certificate_pem, const char *key_pem) {
    BIO *certificate_bio = BIO_new_mem_buf(certificate_pem, -1);
    BIO *key_bio = BIO_new_mem_buf(key_pem, -1);
    X509 *certificate = certificate_bio ? PEM_read_bio_X509(certificate_bio, NULL, NULL, NULL) : NULL;
    EVP_PKEY *key = key_bio ? PEM_read_bio_PrivateKey(key_bio, NULL, NULL, NULL) : NULL;
    int matches = certificate && key && X509_check_private_key(certificate, key) == 1;
    X509_free(certificate);
    EVP_PKEY_free(key);
    BIO_free(certificate_bio);
    BIO_free(key_bio);
    return matches;
}
