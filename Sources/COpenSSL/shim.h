// COpenSSL: the one door to OpenSSL's libcrypto (SHA-256 and HMAC-SHA256).
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <openssl/crypto.h>
