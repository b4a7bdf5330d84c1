/*
 * digest.c - SHA-256 through libcrypto, opened with dlopen() on first
 * use.
 *
 * The sandbox library needs a digest only for the description of the
 * seccomp filter. Linking libcrypto would make the loader map and
 * relocate it at every start of the light executable (about 1 ms of
 * CPU in bench/sandbox.sh on a 2-core x86_64 machine), although most
 * runs of `runbundle sandbox` never describe anything. The commands
 * module links libcrypto for its own use, so there the library is found
 * already loaded.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/opensslv.h>

#include "sandbox/digest.h"
#include "sandbox/error.h"

#define STRINGIFY(x) #x
#define SONAME(version) "libcrypto.so." STRINGIFY(version)

struct libcrypto {
	__typeof__(EVP_Digest) *digest;
	__typeof__(EVP_sha256) *sha256;
	bool failed;
	char error[256];	/* why, when failed */
};

static struct libcrypto crypto;
static pthread_once_t crypto_once = PTHREAD_ONCE_INIT;

/*
 * Open libcrypto. When this process has not loaded it yet, nothing
 * else here uses it, so skip reading openssl.cnf, which a digest does
 * not need. Where another part of the process loaded it first, leave
 * its initialisation alone, because OPENSSL_INIT_NO_LOAD_CONFIG would
 * stop a later user from reading the configuration.
 */
static void open_crypto(void)
{
	const char *soname = SONAME(OPENSSL_SHLIB_VERSION);
	void *lib = dlopen(soname, RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD);
	__typeof__(OPENSSL_init_crypto) *init;

	if (!lib) {
		lib = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
		if (!lib) {
			crypto.failed = true;
			snprintf(crypto.error, sizeof(crypto.error), "%s",
				 dlerror());
			return;
		}
		init = (__typeof__(init))dlsym(lib, "OPENSSL_init_crypto");
		if (init)
			init(OPENSSL_INIT_NO_LOAD_CONFIG, NULL);
	}
	crypto.digest = (__typeof__(crypto.digest))dlsym(lib, "EVP_Digest");
	crypto.sha256 = (__typeof__(crypto.sha256))dlsym(lib, "EVP_sha256");
	if (!crypto.digest || !crypto.sha256) {
		crypto.failed = true;
		snprintf(crypto.error, sizeof(crypto.error), "%s",
			 "EVP_Digest or EVP_sha256 not found");
	}
}

int sandbox_sha256_hex(const void *data, size_t len, char hex[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;

	pthread_once(&crypto_once, open_crypto);
	if (crypto.failed) {
		sandbox_set_error("cannot open libcrypto for SHA-256: '%s': "
				  "%s", SONAME(OPENSSL_SHLIB_VERSION),
				  crypto.error);
		sandbox_set_hint("install OpenSSL %d's libcrypto (Debian: "
				 "libssl3)", OPENSSL_SHLIB_VERSION);
		return -1;
	}
	if (!crypto.digest(data, len, md, &md_len, crypto.sha256(), NULL) ||
	    md_len != 32) {
		sandbox_set_error("cannot compute a digest: '%s': %s",
				  "SHA-256", "EVP_Digest failed");
		return -1;
	}
	for (unsigned int i = 0; i < md_len; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return 0;
}
