#include "azure/jose.h"

#include <bsd/stdlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rsa.h>

#include "util/b64.h"
#include "util/err.h"

char *az_b64url_encode(const void *in, size_t n)
{
	char *out = malloc(b64_encoded_len(n, B64_URL_RAW) + 1);

	if (!out) {
		err_set(EXIT_FAILED, "out of memory");
		return NULL;
	}
	b64_encode(in, n, B64_URL_RAW, out);
	return out;
}

int az_b64url_decode(const char *in, size_t n, struct buf *out)
{
	size_t len = 0;

	if (buf_reserve(out, n * 3 / 4 + 3) < 0)
		return -1;
	if (b64_decode_loose(in, n, (unsigned char *)out->data + out->len,
			     &len) < 0)
		return -1;
	out->len += len;
	out->data[out->len] = '\0';
	return 0;
}

cJSON *az_jwt_claims(const char *jwt)
{
	const char *dot1 = jwt ? strchr(jwt, '.') : NULL;
	const char *dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
	struct buf b = BUF_INIT;
	cJSON *j = NULL;

	if (!dot2)
		return NULL;
	if (az_b64url_decode(dot1 + 1, (size_t)(dot2 - dot1 - 1), &b) == 0 &&
	    b.data)
		j = cJSON_ParseWithLength(b.data, b.len);
	buf_free(&b);
	if (j && !cJSON_IsObject(j)) {
		cJSON_Delete(j);
		j = NULL;
	}
	return j;
}

const char *az_claim_str(const cJSON *claims, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(claims, name);

	if (cJSON_IsArray(v))
		v = cJSON_GetArrayItem(v, 0);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

long long az_claim_num(const cJSON *claims, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(claims, name);

	if (cJSON_IsNumber(v))
		return (long long)v->valuedouble;
	if (cJSON_IsString(v))
		return atoll(v->valuestring);
	return 0;
}

static BIGNUM *bn_from_b64url(const char *s)
{
	struct buf b = BUF_INIT;
	BIGNUM *bn = NULL;

	if (s && az_b64url_decode(s, strlen(s), &b) == 0 && b.len > 0)
		bn = BN_bin2bn((const unsigned char *)b.data, (int)b.len,
			       NULL);
	buf_free(&b);
	return bn;
}

EVP_PKEY *az_rsa_from_jwk(const char *n, const char *e)
{
	BIGNUM *bn = bn_from_b64url(n), *be = bn_from_b64url(e);
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	EVP_PKEY *pk = NULL;

	if (bn && be && bld && ctx &&
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) &&
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) &&
	    (params = OSSL_PARAM_BLD_to_param(bld)) &&
	    EVP_PKEY_fromdata_init(ctx) > 0 &&
	    EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params) > 0 &&
	    EVP_PKEY_get_bits(pk) >= 2048) {
		/* a usable key */
	} else {
		EVP_PKEY_free(pk);
		pk = NULL;
		err_set(EXIT_FAILED, "the key's public part (JWK n, e) is not "
			"a usable RSA key of at least 2048 bits");
	}
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	EVP_PKEY_CTX_free(ctx);
	BN_free(bn);
	BN_free(be);
	return pk;
}

size_t az_rsa_size(const EVP_PKEY *pk)
{
	return (size_t)EVP_PKEY_get_size(pk);
}

int az_rsa_oaep256_encrypt(EVP_PKEY *pk, const unsigned char *in, size_t n,
			   struct buf *out)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(pk, NULL);
	size_t len = 0;
	int rc = -1;

	buf_reset(out);
	if (ctx && EVP_PKEY_encrypt_init(ctx) > 0 &&
	    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) > 0 &&
	    EVP_PKEY_CTX_set_rsa_oaep_md(ctx, EVP_sha256()) > 0 &&
	    EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha256()) > 0 &&
	    EVP_PKEY_encrypt(ctx, NULL, &len, in, n) > 0 &&
	    buf_reserve(out, len) == 0 &&
	    EVP_PKEY_encrypt(ctx, (unsigned char *)out->data, &len, in, n) >
		    0) {
		out->len = len;
		out->data[len] = '\0';
		rc = 0;
	} else {
		err_set(EXIT_FAILED, "RSA-OAEP-256 encryption failed: %s",
			ERR_reason_error_string(ERR_get_error()));
	}
	EVP_PKEY_CTX_free(ctx);
	return rc;
}

/* ---- certificates ------------------------------------------------------ */

static int load_pem(const char *path, struct az_cert *c)
{
	FILE *f = fopen(path, "r");
	X509 *x;

	if (!f)
		return err_set(EXIT_USAGE, "AZURE_CLIENT_CERTIFICATE_PATH %s: "
			       "cannot read it", path);
	c->chain = sk_X509_new_null();
	while ((x = PEM_read_X509(f, NULL, NULL, NULL)))
		if (!c->chain || !sk_X509_push(c->chain, x))
			X509_free(x);
	ERR_clear_error();
	rewind(f);
	c->key = PEM_read_PrivateKey(f, NULL, NULL, (void *)"");
	fclose(f);
	ERR_clear_error();
	if (!c->key)
		return err_set(EXIT_USAGE, "AZURE_CLIENT_CERTIFICATE_PATH %s: "
			       "no unencrypted private key in it", path);
	return 0;
}

static int load_p12(const char *path, const char *password,
		    struct az_cert *c)
{
	FILE *f = fopen(path, "rb");
	PKCS12 *p12 = f ? d2i_PKCS12_fp(f, NULL) : NULL;
	X509 *leaf = NULL;
	int ok;

	if (f)
		fclose(f);
	if (!p12)
		return err_set(EXIT_USAGE, "AZURE_CLIENT_CERTIFICATE_PATH %s: "
			       "neither PEM nor PKCS#12", path);
	ok = PKCS12_parse(p12, password ? password : "", &c->key, &leaf,
			  &c->chain);
	PKCS12_free(p12);
	ERR_clear_error();
	if (!ok)
		return err_set(EXIT_USAGE, "AZURE_CLIENT_CERTIFICATE_PATH %s: "
			       "cannot open the PKCS#12 file (wrong "
			       "AZURE_CLIENT_CERTIFICATE_PASSWORD?)", path);
	if (!c->chain)
		c->chain = sk_X509_new_null();
	if (leaf && (!c->chain || !sk_X509_insert(c->chain, leaf, 0)))
		X509_free(leaf);
	return 0;
}

/* Moves the certificate matching the key out of the chain. */
static int pick_leaf(const char *path, struct az_cert *c)
{
	int i;

	for (i = 0; c->chain && i < sk_X509_num(c->chain); i++) {
		X509 *x = sk_X509_value(c->chain, i);

		if (X509_check_private_key(x, c->key) == 1) {
			c->cert = sk_X509_delete(c->chain, i);
			ERR_clear_error();
			return 0;
		}
	}
	ERR_clear_error();
	return err_set(EXIT_USAGE, "AZURE_CLIENT_CERTIFICATE_PATH %s: no "
		       "certificate in it matches the private key", path);
}

int az_cert_load(const char *path, const char *password, struct az_cert *c)
{
	FILE *f = fopen(path, "rb");
	char head[64] = "";
	size_t n;
	int rc;

	memset(c, 0, sizeof(*c));
	if (!f)
		return err_set(EXIT_USAGE, "AZURE_CLIENT_CERTIFICATE_PATH %s: "
			       "cannot open it", path);
	n = fread(head, 1, sizeof(head) - 1, f);
	head[n] = '\0';
	fclose(f);
	rc = strstr(head, "-----BEGIN") ? load_pem(path, c)
					 : load_p12(path, password, c);
	if (rc == 0)
		rc = pick_leaf(path, c);
	if (rc < 0)
		az_cert_free(c);
	return rc;
}

void az_cert_free(struct az_cert *c)
{
	EVP_PKEY_free(c->key);
	X509_free(c->cert);
	sk_X509_pop_free(c->chain, X509_free);
	memset(c, 0, sizeof(*c));
}

/* ---- client assertion -------------------------------------------------- */

static char *thumbprint(X509 *x, const EVP_MD *md)
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned len = 0;

	if (!X509_digest(x, md, d, &len))
		return NULL;
	return az_b64url_encode(d, len);
}

static int add_x5c(cJSON *hdr, const struct az_cert *c)
{
	cJSON *arr = cJSON_AddArrayToObject(hdr, "x5c");
	int i, n = c->chain ? sk_X509_num(c->chain) : 0;

	for (i = -1; arr && i < n; i++) {
		X509 *x = i < 0 ? c->cert : sk_X509_value(c->chain, i);
		unsigned char *der = NULL;
		int len = i2d_X509(x, &der);
		char *b64;

		if (len <= 0)
			return -1;
		b64 = malloc(b64_encoded_len((size_t)len, B64_STD) + 1);
		if (b64)
			b64_encode(der, (size_t)len, B64_STD, b64);
		OPENSSL_free(der);
		if (!b64 || !cJSON_AddItemToArray(arr, cJSON_CreateString(b64))) {
			free(b64);
			return -1;
		}
		free(b64);
	}
	return arr ? 0 : -1;
}

static cJSON *assertion_header(const struct az_cert *c, bool send_chain)
{
	cJSON *h = cJSON_CreateObject();
	char *s256 = thumbprint(c->cert, EVP_sha256());
	char *s1 = thumbprint(c->cert, EVP_sha1());
	bool ok = h && s256 && s1 && cJSON_AddStringToObject(h, "alg", "PS256") &&
		  cJSON_AddStringToObject(h, "typ", "JWT") &&
		  cJSON_AddStringToObject(h, "x5t#S256", s256) &&
		  cJSON_AddStringToObject(h, "x5t", s1) &&
		  (!send_chain || add_x5c(h, c) == 0);

	free(s256);
	free(s1);
	if (!ok) {
		cJSON_Delete(h);
		return NULL;
	}
	return h;
}

static cJSON *assertion_claims(const char *client_id, const char *aud)
{
	cJSON *p = cJSON_CreateObject();
	char jti[37];
	double now = (double)time(NULL);

	az_uuid(jti);
	if (p && cJSON_AddStringToObject(p, "aud", aud) &&
	    cJSON_AddStringToObject(p, "iss", client_id) &&
	    cJSON_AddStringToObject(p, "sub", client_id) &&
	    cJSON_AddStringToObject(p, "jti", jti) &&
	    cJSON_AddNumberToObject(p, "nbf", now) &&
	    cJSON_AddNumberToObject(p, "iat", now) &&
	    cJSON_AddNumberToObject(p, "exp", now + 600))
		return p;
	cJSON_Delete(p);
	return NULL;
}

static char *json_b64(const cJSON *j)
{
	char *s = cJSON_PrintUnformatted(j);
	char *out = s ? az_b64url_encode(s, strlen(s)) : NULL;

	free(s);
	return out;
}

static int sign_ps256(EVP_PKEY *key, const char *data, struct buf *sig)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	size_t len = 0;
	int rc = -1;

	if (md && EVP_DigestSignInit(md, &pctx, EVP_sha256(), NULL, key) > 0 &&
	    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) > 0 &&
	    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) > 0 &&
	    EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) > 0 &&
	    EVP_DigestSign(md, NULL, &len, (const unsigned char *)data,
			   strlen(data)) > 0 &&
	    buf_reserve(sig, len) == 0 &&
	    EVP_DigestSign(md, (unsigned char *)sig->data, &len,
			   (const unsigned char *)data, strlen(data)) > 0) {
		sig->len = len;
		rc = 0;
	}
	EVP_MD_CTX_free(md);
	return rc;
}

char *az_client_assertion(const struct az_cert *c, const char *client_id,
			  const char *token_url, bool send_chain)
{
	cJSON *h = NULL, *p = NULL;
	char *hb = NULL, *pb = NULL, *sb = NULL, *out = NULL;
	struct buf input = BUF_INIT, sig = BUF_INIT;

	if (EVP_PKEY_get_base_id(c->key) != EVP_PKEY_RSA) {
		err_set(EXIT_USAGE, "the client certificate's key is not RSA");
		return NULL;
	}
	if ((h = assertion_header(c, send_chain)) &&
	    (p = assertion_claims(client_id, token_url)) &&
	    (hb = json_b64(h)) && (pb = json_b64(p)) &&
	    buf_printf(&input, "%s.%s", hb, pb) == 0 &&
	    sign_ps256(c->key, input.data, &sig) == 0 &&
	    (sb = az_b64url_encode(sig.data, sig.len))) {
		struct buf o = BUF_INIT;

		buf_init_secret(&o);
		if (buf_printf(&o, "%s.%s", input.data, sb) == 0)
			out = buf_detach(&o, NULL);
		buf_free(&o);
	}
	if (!out)
		err_set(EXIT_FAILED, "cannot build the client assertion: %s",
			ERR_reason_error_string(ERR_get_error()));
	cJSON_Delete(h);
	cJSON_Delete(p);
	free(hb);
	free(pb);
	free(sb);
	buf_free(&input);
	buf_free(&sig);
	return out;
}

void az_uuid(char out[37])
{
	unsigned char u[16];

	arc4random_buf(u, sizeof(u));
	u[6] = (unsigned char)((u[6] & 0x0f) | 0x40);
	u[8] = (unsigned char)((u[8] & 0x3f) | 0x80);
	snprintf(out, 37,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
		 "%02x%02x%02x%02x%02x%02x",
		 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9],
		 u[10], u[11], u[12], u[13], u[14], u[15]);
}
