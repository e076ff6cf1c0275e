// COpenSSL: the one door to OpenSSL's libcrypto (HMAC and digests for signed outbound requests).
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <openssl/crypto.h>
