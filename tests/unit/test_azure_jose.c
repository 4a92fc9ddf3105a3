/* test_azure_jose.c - base64url, JWT claims, RSA-OAEP-256, assertions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "azure/jose.h"
#include "util/err.h"

static void b64url(void **state)
{
	static const unsigned char in[] = { 0xfb, 0xff, 0x00, 0x41, 0x42 };
	struct buf b = BUF_INIT;
	char *s;
	size_t n;

	(void)state;
	for (n = 0; n <= sizeof(in); n++) {
		s = az_b64url_encode(in, n);
		assert_non_null(s);
		assert_null(strchr(s, '='));
		buf_reset(&b);
		assert_int_equal(az_b64url_decode(s, strlen(s), &b), 0);
		assert_int_equal(b.len, n);
		assert_memory_equal(b.data ? b.data : "", in, n);
		free(s);
	}
	s = az_b64url_encode(in, 3);
	assert_string_equal(s, "-_8A");
	free(s);
	buf_reset(&b);	/* padding and the standard alphabet are tolerated */
	assert_int_equal(az_b64url_decode("+/8AQUI=", 8, &b), 0);
	assert_memory_equal(b.data, in, 5);
	buf_reset(&b);
	assert_int_equal(az_b64url_decode("a", 1, &b), -1);
	assert_int_equal(az_b64url_decode("ab!c", 4, &b), -1);
	buf_free(&b);
}

static void jwt_claims(void **state)
{
	const char *p = "{\"oid\":\"o-1\",\"exp\":1700000000,\"aud\":[\"a\"]}";
	char *mid = az_b64url_encode(p, strlen(p)), jwt[300];
	cJSON *c;

	(void)state;
	snprintf(jwt, sizeof(jwt), "eyJhbGciOiJSUzI1NiJ9.%s.sig", mid);
	c = az_jwt_claims(jwt);
	assert_non_null(c);
	assert_string_equal(az_claim_str(c, "oid"), "o-1");
	assert_string_equal(az_claim_str(c, "aud"), "a");
	assert_int_equal(az_claim_num(c, "exp"), 1700000000);
	assert_null(az_claim_str(c, "tid"));
	cJSON_Delete(c);
	assert_null(az_jwt_claims("not-a-jwt"));
	assert_null(az_jwt_claims("a.b"));
	free(mid);
}

static EVP_PKEY *new_rsa(void)
{
	return EVP_RSA_gen(2048);
}

static char *jwk_member(EVP_PKEY *k, const char *name)
{
	BIGNUM *bn = NULL;
	unsigned char raw[600];
	int n;
	char *s;

	assert_true(EVP_PKEY_get_bn_param(k, name, &bn));
	n = BN_bn2bin(bn, raw);
	s = az_b64url_encode(raw, (size_t)n);
	BN_free(bn);
	return s;
}

/* Local RSA-OAEP-256 must open with the private key under the same
 * parameters (SHA-256, MGF1-SHA-256, no label). */
static void oaep_round_trip(void **state)
{
	EVP_PKEY *priv = new_rsa(), *pub;
	char *n = jwk_member(priv, "n"), *e = jwk_member(priv, "e");
	unsigned char dk[32], out[512];
	size_t outlen = sizeof(out);
	struct buf ct = BUF_INIT;
	EVP_PKEY_CTX *ctx;

	(void)state;
	pub = az_rsa_from_jwk(n, e);
	assert_non_null(pub);
	assert_int_equal(az_rsa_size(pub), 256);
	memset(dk, 0x5a, sizeof(dk));
	assert_int_equal(az_rsa_oaep256_encrypt(pub, dk, sizeof(dk), &ct), 0);
	assert_int_equal(ct.len, 256);
	ctx = EVP_PKEY_CTX_new(priv, NULL);
	assert_true(EVP_PKEY_decrypt_init(ctx) > 0);
	EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING);
	EVP_PKEY_CTX_set_rsa_oaep_md(ctx, EVP_sha256());
	EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha256());
	assert_true(EVP_PKEY_decrypt(ctx, out, &outlen,
				     (unsigned char *)ct.data, ct.len) > 0);
	assert_int_equal(outlen, 32);
	assert_memory_equal(out, dk, 32);
	EVP_PKEY_CTX_free(ctx);
	/* the SHA-1 variant (RSA-OAEP) must not open it */
	ctx = EVP_PKEY_CTX_new(priv, NULL);
	EVP_PKEY_decrypt_init(ctx);
	EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING);
	outlen = sizeof(out);
	assert_false(EVP_PKEY_decrypt(ctx, out, &outlen,
				      (unsigned char *)ct.data, ct.len) > 0);
	EVP_PKEY_CTX_free(ctx);
	assert_null(az_rsa_from_jwk("AQAB", e));	/* far too small */
	buf_free(&ct);
	EVP_PKEY_free(pub);
	EVP_PKEY_free(priv);
	free(n);
	free(e);
}

static X509 *self_signed(EVP_PKEY *k)
{
	X509 *x = X509_new();

	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, k);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
				   (const unsigned char *)"sp", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	X509_sign(x, k, EVP_sha256());
	return x;
}

static void assertion(void **state)
{
	char path[] = "/tmp/test_azure_jose.XXXXXX";
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");
	EVP_PKEY *k = new_rsa();
	X509 *x = self_signed(k);
	struct az_cert c;
	char *jwt, *dot1, *dot2, hdrtxt[1200];
	struct buf hdr = BUF_INIT, sig = BUF_INIT;
	cJSON *h, *claims;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;

	(void)state;
	PEM_write_X509(f, x);
	PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
	fclose(f);
	assert_int_equal(az_cert_load(path, NULL, &c), 0);
	jwt = az_client_assertion(&c, "client-1", "https://login/t/oauth2/"
				  "v2.0/token", true);
	assert_non_null(jwt);
	dot1 = strchr(jwt, '.');
	dot2 = strrchr(jwt, '.');
	assert_int_equal(az_b64url_decode(jwt, (size_t)(dot1 - jwt), &hdr), 0);
	snprintf(hdrtxt, sizeof(hdrtxt), "%s", hdr.data);
	h = cJSON_Parse(hdrtxt);
	assert_string_equal(cJSON_GetObjectItem(h, "alg")->valuestring, "PS256");
	assert_non_null(cJSON_GetObjectItem(h, "x5t#S256"));
	assert_non_null(cJSON_GetObjectItem(h, "x5t"));
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(h, "x5c")), 1);
	claims = az_jwt_claims(jwt);
	assert_string_equal(az_claim_str(claims, "iss"), "client-1");
	assert_string_equal(az_claim_str(claims, "sub"), "client-1");
	assert_string_equal(az_claim_str(claims, "aud"),
			    "https://login/t/oauth2/v2.0/token");
	assert_true(az_claim_num(claims, "exp") - az_claim_num(claims, "nbf") <=
		    600);
	assert_non_null(az_claim_str(claims, "jti"));
	/* the signature verifies as PS256 with the certificate's key */
	assert_int_equal(az_b64url_decode(dot2 + 1, strlen(dot2 + 1), &sig), 0);
	assert_true(EVP_DigestVerifyInit(md, &pctx, EVP_sha256(), NULL, k) > 0);
	EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
	EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST);
	assert_int_equal(EVP_DigestVerify(md, (unsigned char *)sig.data, sig.len,
					  (unsigned char *)jwt,
					  (size_t)(dot2 - jwt)), 1);
	EVP_MD_CTX_free(md);
	cJSON_Delete(h);
	cJSON_Delete(claims);
	buf_free(&hdr);
	buf_free(&sig);
	free(jwt);
	az_cert_free(&c);
	unlink(path);
	X509_free(x);
	EVP_PKEY_free(k);
}

static void cert_problems(void **state)
{
	char path[] = "/tmp/test_azure_jose.XXXXXX";
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");
	EVP_PKEY *k = new_rsa(), *other = new_rsa();
	X509 *x = self_signed(other);
	struct az_cert c;

	(void)state;
	PEM_write_X509(f, x);		/* a certificate of another key */
	PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
	fclose(f);
	assert_int_equal(az_cert_load(path, NULL, &c), -1);
	assert_int_equal(az_cert_load("/nonexistent.pem", NULL, &c), -1);
	unlink(path);
	X509_free(x);
	EVP_PKEY_free(k);
	EVP_PKEY_free(other);
}

/* PKCS#12 files with AZURE_CLIENT_CERTIFICATE_PASSWORD. */
static void pkcs12(void **state)
{
	char path[] = "/tmp/test_azure_p12.XXXXXX";
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "wb");
	EVP_PKEY *k = new_rsa();
	X509 *x = self_signed(k);
	PKCS12 *p12 = PKCS12_create("pw", "sp", k, x, NULL, 0, 0, 0, 0, 0);
	struct az_cert c;

	(void)state;
	assert_non_null(p12);
	i2d_PKCS12_fp(f, p12);
	fclose(f);
	assert_int_equal(az_cert_load(path, "pw", &c), 0);
	assert_non_null(c.cert);
	assert_int_equal(X509_cmp(c.cert, x), 0);
	az_cert_free(&c);
	assert_int_equal(az_cert_load(path, "wrong", &c), -1);
	assert_non_null(strstr(err_msg(), "AZURE_CLIENT_CERTIFICATE_PASSWORD"));
	PKCS12_free(p12);
	unlink(path);
	X509_free(x);
	EVP_PKEY_free(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(b64url),
		cmocka_unit_test(jwt_claims),
		cmocka_unit_test(oaep_round_trip),
		cmocka_unit_test(assertion),
		cmocka_unit_test(cert_problems),
		cmocka_unit_test(pkcs12),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
