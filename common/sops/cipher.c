#include "sops/cipher.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "util/b64.h"
#include "util/err.h"

#define ENC_PREFIX "ENC[AES256_GCM,data:"

const char *sops_type_tag(enum sops_type t, bool is_comment)
{
	if (is_comment)
		return "comment";
	switch (t) {
	case SOPS_INT: return "int";
	case SOPS_FLOAT: return "float";
	case SOPS_BOOL: return "bool";
	case SOPS_TIME: return "time";
	case SOPS_BYTES: return "bytes";
	default: return "str";
	}
}

bool sops_is_enc(const char *s, size_t len)
{
	size_t pl = sizeof(ENC_PREFIX) - 1;

	return len >= pl && !memcmp(s, ENC_PREFIX, pl);
}

static int gcm_run(bool enc, const unsigned char *key,
		   const unsigned char *iv, size_t ivlen,
		   const unsigned char *aad, size_t aadlen,
		   const unsigned char *in, size_t n, unsigned char *out,
		   unsigned char *tag)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int ok = 0, l;

	if (!c)
		return -1;
	if (EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL,
			      enc) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_IVLEN, (int)ivlen,
				NULL) != 1 ||
	    EVP_CipherInit_ex(c, NULL, NULL, key, iv, enc) != 1)
		goto out;
	if (aadlen && EVP_CipherUpdate(c, NULL, &l, aad, (int)aadlen) != 1)
		goto out;
	if (n && EVP_CipherUpdate(c, out, &l, in, (int)n) != 1)
		goto out;
	if (!enc && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG,
					SOPS_TAG_LEN, tag) != 1)
		goto out;
	if (EVP_CipherFinal_ex(c, out + n, &l) != 1)
		goto out;
	if (enc && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG,
				       SOPS_TAG_LEN, tag) != 1)
		goto out;
	ok = 1;
out:
	EVP_CIPHER_CTX_free(c);
	return ok ? 0 : -1;
}

static int put_b64(struct buf *out, const unsigned char *p, size_t n)
{
	size_t el = b64_encoded_len(n, B64_STD);

	if (buf_reserve(out, el + 1) < 0)
		return -1;
	b64_encode(p, n, B64_STD, out->data + out->len);
	out->len += el;
	return 0;
}

int sops_aes_encrypt(const unsigned char *key, const char *pt, size_t len,
		     const char *aad, size_t aad_len, const char *tag,
		     const unsigned char *iv_in, struct buf *out)
{
	unsigned char iv[SOPS_IV_LEN], mac[SOPS_TAG_LEN], *ct;
	int rc = -1;

	if (len > 0x7fffffff)
		return err_set(EXIT_FAILED, "value too large to encrypt");
	if (iv_in)
		memcpy(iv, iv_in, sizeof(iv));
	else if (RAND_bytes(iv, sizeof(iv)) != 1)
		return err_set(EXIT_FAILED, "no random bytes for an IV");
	ct = malloc(len + 16);
	if (!ct)
		return err_set(EXIT_FAILED, "out of memory");
	if (gcm_run(true, key, iv, sizeof(iv), (const unsigned char *)aad,
		    aad_len, (const unsigned char *)pt, len, ct, mac) < 0) {
		err_set(EXIT_FAILED, "AES-GCM encryption failed");
		goto out;
	}
	if (buf_puts(out, ENC_PREFIX) < 0 || put_b64(out, ct, len) < 0 ||
	    buf_puts(out, ",iv:") < 0 || put_b64(out, iv, sizeof(iv)) < 0 ||
	    buf_puts(out, ",tag:") < 0 || put_b64(out, mac, sizeof(mac)) < 0 ||
	    buf_printf(out, ",type:%s]", tag) < 0)
		goto out;
	rc = 0;
out:
	free(ct);
	return rc;
}

/* The fields of an ENC[...] text, as slices of it. */
struct enc_parts {
	const char *data, *iv, *tag, *type;
	size_t data_len, iv_len, tag_len, type_len;
};

/* Finds the last occurrence of needle in [s, s+n). */
static const char *rfind(const char *s, size_t n, const char *needle)
{
	size_t nl = strlen(needle);

	while (n >= nl) {
		if (!memcmp(s + n - nl, needle, nl))
			return s + n - nl;
		n--;
	}
	return NULL;
}

static int split_enc(const char *s, size_t len, struct enc_parts *p)
{
	size_t pl = sizeof(ENC_PREFIX) - 1;
	const char *end, *iv, *tag, *type;

	if (!sops_is_enc(s, len))
		return -1;
	end = rfind(s, len, "]");
	type = end ? rfind(s, (size_t)(end - s), ",type:") : NULL;
	tag = type ? rfind(s, (size_t)(type - s), ",tag:") : NULL;
	iv = tag ? rfind(s, (size_t)(tag - s), ",iv:") : NULL;
	if (!iv || iv < s + pl)
		return -1;
	p->data = s + pl;
	p->data_len = (size_t)(iv - p->data);
	p->iv = iv + 4;
	p->iv_len = (size_t)(tag - p->iv);
	p->tag = tag + 5;
	p->tag_len = (size_t)(type - p->tag);
	p->type = type + 6;
	p->type_len = (size_t)(end - p->type);
	if (!p->data_len || !p->iv_len || !p->tag_len || !p->type_len ||
	    p->type_len > 15)
		return -1;
	return 0;
}

static int dec_field(const char *s, size_t n, unsigned char **out,
		     size_t *outlen)
{
	*out = malloc(n / 4 * 3 + 4);
	if (!*out)
		return err_set(EXIT_FAILED, "out of memory");
	if (b64_decode(s, n, B64_STD, *out, outlen) < 0) {
		free(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

int sops_aes_decrypt(const unsigned char *key, const char *enc, size_t len,
		     const char *aad, size_t aad_len, struct buf *pt,
		     char type[16])
{
	struct enc_parts p;
	unsigned char *ct = NULL, *iv = NULL, *tag = NULL;
	size_t ctl, ivl, tagl;
	int rc = -1;

	if (split_enc(enc, len, &p) < 0)
		return err_set(EXIT_MAC, "value does not match sops' data format");
	if (dec_field(p.data, p.data_len, &ct, &ctl) < 0 ||
	    dec_field(p.iv, p.iv_len, &iv, &ivl) < 0 ||
	    dec_field(p.tag, p.tag_len, &tag, &tagl) < 0 || ivl == 0 ||
	    tagl != SOPS_TAG_LEN) {
		err_set(EXIT_MAC, "value does not match sops' data format "
			"(bad base64 field)");
		goto out;
	}
	buf_reset(pt);
	if (buf_reserve(pt, ctl + 16) < 0)
		goto out;
	if (gcm_run(false, key, iv, ivl, (const unsigned char *)aad, aad_len,
		    ct, ctl, (unsigned char *)pt->data, tag) < 0) {
		explicit_bzero(pt->data, ctl);
		err_set(EXIT_MAC, "could not authenticate the value "
			"(wrong data key, wrong path, or tampered)");
		goto out;
	}
	pt->len = ctl;
	pt->data[ctl] = '\0';
	memcpy(type, p.type, p.type_len);
	type[p.type_len] = '\0';
	rc = 0;
out:
	free(ct);
	free(iv);
	free(tag);
	return rc;
}

/* Digits and exponent of the shortest %e form that round-trips. */
static void shortest_digits(double v, char *digits, int *exp10)
{
	char tmp[64], *e;
	int prec, o = 0;
	size_t i;

	for (prec = 1; prec <= 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, v);
		if (strtod(tmp, NULL) == v)
			break;
	}
	e = strchr(tmp, 'e');
	*exp10 = atoi(e + 1);
	for (i = 0; tmp + i < e; i++)
		if (tmp[i] >= '0' && tmp[i] <= '9')
			digits[o++] = tmp[i];
	while (o > 1 && digits[o - 1] == '0')
		o--;
	digits[o] = '\0';
}

void sops_format_float(double v, char *out, size_t cap)
{
	char d[32];
	int e, nd, i, o = 0;

	if (isnan(v)) {
		snprintf(out, cap, "NaN");
		return;
	}
	if (isinf(v)) {
		snprintf(out, cap, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	if (signbit(v))
		out[o++] = '-';
	if (v == 0) {
		snprintf(out + o, cap - (size_t)o, "0");
		return;
	}
	shortest_digits(fabs(v), d, &e);
	nd = (int)strlen(d);
	if (e < 0) {
		out[o++] = '0';
		out[o++] = '.';
		for (i = 0; i < -e - 1; i++)
			out[o++] = '0';
		for (i = 0; i < nd; i++)
			out[o++] = d[i];
	} else {
		for (i = 0; i <= e; i++)
			out[o++] = i < nd ? d[i] : '0';
		if (nd > e + 1) {
			out[o++] = '.';
			for (i = e + 1; i < nd; i++)
				out[o++] = d[i];
		}
	}
	out[o] = '\0';
}

static int parse_int(const char *s, size_t len, long long *out)
{
	char tmp[32], *end;

	if (len == 0 || len >= sizeof(tmp))
		return -1;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	if (tmp[0] == '+' || (tmp[0] != '-' && (tmp[0] < '0' || tmp[0] > '9')))
		return -1;
	errno = 0;
	*out = strtoll(tmp, &end, 10);
	return (errno || *end) ? -1 : 0;
}

static int parse_float(const char *s, size_t len, double *out)
{
	char tmp[512], *end;

	if (len == 0 || len >= sizeof(tmp))
		return -1;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	if (!strcmp(tmp, "NaN") || !strcmp(tmp, "+Inf") ||
	    !strcmp(tmp, "-Inf") || !strcmp(tmp, "Inf")) {
		*out = tmp[0] == 'N' ? NAN : tmp[0] == '-' ? -INFINITY : INFINITY;
		return 0;
	}
	*out = strtod(tmp, &end);
	return *end ? -1 : 0;
}

static int parse_bool(const char *s, size_t len, bool *out)
{
	static const char *const T[] = { "1", "t", "T", "TRUE", "true", "True" };
	static const char *const F[] = { "0", "f", "F", "FALSE", "false",
					 "False" };
	size_t i;

	for (i = 0; i < 6; i++) {
		if (strlen(T[i]) == len && !memcmp(T[i], s, len)) {
			*out = true;
			return 0;
		}
		if (strlen(F[i]) == len && !memcmp(F[i], s, len)) {
			*out = false;
			return 0;
		}
	}
	return -1;
}

static int decode_number(const char *tag, const char *pt, size_t len,
			 enum sops_type *type, struct buf *canon)
{
	char tmp[512];

	if (!strcmp(tag, "int")) {
		long long v;

		if (parse_int(pt, len, &v) < 0)
			return err_set(EXIT_MAC, "decrypted value of type int "
				       "is not an integer");
		*type = SOPS_INT;
		return buf_printf(canon, "%lld", v);
	}
	{
		double d;

		if (parse_float(pt, len, &d) < 0)
			return err_set(EXIT_MAC, "decrypted value of type float "
				       "is not a number");
		sops_format_float(d, tmp, sizeof(tmp));
		*type = SOPS_FLOAT;
		return buf_puts(canon, tmp);
	}
}

int sops_decode_typed(const char *tag, const char *pt, size_t len,
		      enum sops_type *type, struct buf *canon)
{
	buf_reset(canon);
	if (!strcmp(tag, "str") || !strcmp(tag, "comment") ||
	    !strcmp(tag, "bytes") || !strcmp(tag, "time")) {
		*type = !strcmp(tag, "bytes") ? SOPS_BYTES :
			!strcmp(tag, "time") ? SOPS_TIME : SOPS_STR;
		return buf_append(canon, pt, len);
	}
	if (!strcmp(tag, "int") || !strcmp(tag, "float"))
		return decode_number(tag, pt, len, type, canon);
	if (!strcmp(tag, "bool")) {
		bool b;

		if (parse_bool(pt, len, &b) < 0)
			return err_set(EXIT_MAC, "decrypted value of type bool "
				       "is not a boolean");
		*type = SOPS_BOOL;
		return buf_puts(canon, b ? "True" : "False");
	}
	return err_set(EXIT_MAC, "unknown value type '%s' in encrypted value",
		       tag);
}
