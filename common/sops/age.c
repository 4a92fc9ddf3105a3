#include "sops/age.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#include "util/b64.h"
#include "sops/bech32.h"
#include "util/err.h"
#include "util/log.h"

#define AGE_VERSION "age-encryption.org/v1"
#define ARMOR_BEGIN "-----BEGIN AGE ENCRYPTED FILE-----"
#define ARMOR_END "-----END AGE ENCRYPTED FILE-----"
#define CHUNK 65536

/* ---- primitives ------------------------------------------------------- */

static int x25519(const unsigned char sk[32], const unsigned char pk[32],
		  unsigned char out[32])
{
	EVP_PKEY *a = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, sk, 32);
	EVP_PKEY *b = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, pk, 32);
	EVP_PKEY_CTX *c = a ? EVP_PKEY_CTX_new(a, NULL) : NULL;
	size_t n = 32;
	int ok = c && b && EVP_PKEY_derive_init(c) == 1 &&
		 EVP_PKEY_derive_set_peer(c, b) == 1 &&
		 EVP_PKEY_derive(c, out, &n) == 1 && n == 32;
	static const unsigned char zero[32];

	EVP_PKEY_CTX_free(c);
	EVP_PKEY_free(a);
	EVP_PKEY_free(b);
	if (ok && CRYPTO_memcmp(out, zero, 32) == 0)
		ok = 0;
	return ok ? 0 : -1;
}

static int x25519_public(const unsigned char sk[32], unsigned char pk[32])
{
	EVP_PKEY *a = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, sk, 32);
	size_t n = 32;
	int ok = a && EVP_PKEY_get_raw_public_key(a, pk, &n) == 1 && n == 32;

	EVP_PKEY_free(a);
	return ok ? 0 : -1;
}

static int hkdf(const unsigned char *ikm, size_t ikm_len,
		const unsigned char *salt, size_t salt_len, const char *info,
		unsigned char out[32])
{
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, NULL);
	size_t n = 32;
	int ok = c && EVP_PKEY_derive_init(c) == 1 &&
		 EVP_PKEY_CTX_set_hkdf_md(c, EVP_sha256()) == 1 &&
		 (salt_len == 0 ||
		  EVP_PKEY_CTX_set1_hkdf_salt(c, salt, (int)salt_len) == 1) &&
		 EVP_PKEY_CTX_set1_hkdf_key(c, ikm, (int)ikm_len) == 1 &&
		 EVP_PKEY_CTX_add1_hkdf_info(c, (const unsigned char *)info,
					     (int)strlen(info)) == 1 &&
		 EVP_PKEY_derive(c, out, &n) == 1;

	EVP_PKEY_CTX_free(c);
	return ok ? 0 : -1;
}

/* ChaCha20-Poly1305 with a 12-byte nonce, no AAD.  Sealing writes
 * n + 16 bytes; opening reads n bytes (tag included), writes n - 16. */
static int chacha(bool seal, const unsigned char key[32],
		  const unsigned char nonce[12], const unsigned char *in,
		  size_t n, unsigned char *out)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	size_t body = seal ? n : n - 16;
	unsigned char tag[16];
	int l, ok;

	if (!c || (!seal && n < 16)) {
		EVP_CIPHER_CTX_free(c);
		return -1;
	}
	if (!seal)
		memcpy(tag, in + body, 16);
	ok = EVP_CipherInit_ex(c, EVP_chacha20_poly1305(), NULL, key, nonce,
			       seal) == 1 &&
	     (body == 0 || EVP_CipherUpdate(c, out, &l, in, (int)body) == 1) &&
	     (seal || EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, 16,
					  tag) == 1) &&
	     EVP_CipherFinal_ex(c, out + body, &l) == 1 &&
	     (!seal || EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, 16,
					   out + body) == 1);
	EVP_CIPHER_CTX_free(c);
	return ok ? 0 : -1;
}

static int hmac256(const unsigned char key[32], const void *d, size_t n,
		   unsigned char out[32])
{
	unsigned len = 32;

	return HMAC(EVP_sha256(), key, 32, d, n, out, &len) ? 0 : -1;
}

/* ---- identities --------------------------------------------------------- */

static unsigned char (*ids)[32];
static size_t nids;
static bool ids_loaded;

size_t sops_age_identity_count(void)
{
	return nids;
}

void sops_age_clear_identities(void)
{
	if (ids)
		explicit_bzero(ids, nids * 32);
	free(ids);
	ids = NULL;
	nids = 0;
	ids_loaded = false;
}

static int parse_identity(const char *s, unsigned char sk[32])
{
	char hrp[32];
	size_t n;

	if (bech32_decode(s, hrp, sizeof(hrp), sk, 32, &n) < 0 || n != 32 ||
	    strcmp(hrp, "age-secret-key-"))
		return -1;
	return 0;
}

static int add_one(const char *word)
{
	unsigned char sk[32], (*p)[32];

	if (strncmp(word, "AGE-SECRET-KEY-1", 16)) {
		log_at(2, "skipping an age identity of an unsupported kind");
		return 0;
	}
	if (parse_identity(word, sk) < 0)
		return err_set(EXIT_USAGE, "malformed age identity "
			       "(AGE-SECRET-KEY-1...): bad Bech32 encoding");
	p = malloc((nids + 1) * 32);
	if (!p) {
		explicit_bzero(sk, 32);
		return err_set(EXIT_FAILED, "out of memory");
	}
	if (ids) {
		memcpy(p, ids, nids * 32);
		explicit_bzero(ids, nids * 32);
		free(ids);
	}
	ids = p;
	memcpy(ids[nids++], sk, 32);
	explicit_bzero(sk, 32);
	return 0;
}

int sops_age_add_identities(const char *text, size_t len)
{
	char *copy = malloc(len + 1), *line, *save = NULL;
	int rc = 0;

	if (!copy)
		return err_set(EXIT_FAILED, "out of memory");
	memcpy(copy, text, len);
	copy[len] = '\0';
	ids_loaded = true;
	for (line = strtok_r(copy, "\n", &save); line && rc == 0;
	     line = strtok_r(NULL, "\n", &save)) {
		char *w, *s2 = NULL;

		while (isspace((unsigned char)*line))
			line++;
		if (*line == '#' || *line == '\0')
			continue;
		for (w = strtok_r(line, " \t\r", &s2); w && rc == 0;
		     w = strtok_r(NULL, " \t\r", &s2))
			rc = add_one(w);
	}
	explicit_bzero(copy, len);
	free(copy);
	return rc;
}

static int add_file(const char *path, bool must_exist)
{
	FILE *f = fopen(path, "rb");
	struct buf b;
	char tmp[4096];
	size_t n;
	int rc;

	if (!f) {
		if (!must_exist)
			return 0;
		return err_set(EXIT_USAGE, "cannot read age identity file %s: %m",
			       path);
	}
	buf_init_secret(&b);
	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
		if (buf_append(&b, tmp, n) < 0)
			break;
	explicit_bzero(tmp, sizeof(tmp));
	fclose(f);
	rc = sops_age_add_identities(b.data ? b.data : "", b.len);
	buf_free(&b);
	if (rc < 0)
		err_prefix("%s", path);
	return rc;
}

int sops_age_load_env_identities(void)
{
	const char *k = getenv("SOPS_AGE_KEY"), *f = getenv("SOPS_AGE_KEY_FILE");
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	char path[4096];

	ids_loaded = true;
	if (k && *k && sops_age_add_identities(k, strlen(k)) < 0)
		return err_prefix("SOPS_AGE_KEY");
	if (f && *f && add_file(f, true) < 0)
		return -1;
	if (xdg && *xdg)
		snprintf(path, sizeof(path), "%s/sops/age/keys.txt", xdg);
	else if (home && *home)
		snprintf(path, sizeof(path), "%s/.config/sops/age/keys.txt", home);
	else
		return 0;
	return add_file(path, false);
}

int sops_age_identity_recipient(const char *identity, char *out, size_t cap)
{
	unsigned char sk[32], pk[32];
	int rc;

	if (parse_identity(identity, sk) < 0)
		return err_set(EXIT_USAGE, "malformed age identity");
	rc = x25519_public(sk, pk);
	explicit_bzero(sk, 32);
	if (rc < 0 || bech32_encode("age", pk, 32, out, cap) < 0)
		return err_set(EXIT_FAILED, "cannot derive the age recipient");
	return 0;
}

int sops_age_parse_recipient(const char *s, unsigned char pk[32])
{
	char hrp[16];
	size_t n;

	if (bech32_decode(s, hrp, sizeof(hrp), pk, 32, &n) < 0 ||
	    strcmp(hrp, "age") || n != 32)
		return err_set(EXIT_USAGE, "malformed age recipient '%s' "
			       "(expected age1... Bech32 X25519 key)", s);
	return 0;
}

/* ---- the age file ------------------------------------------------------ */

static int put_raw_b64(struct buf *o, const unsigned char *p, size_t n)
{
	char tmp[128];

	b64_encode(p, n, B64_STD_RAW, tmp);
	return buf_puts(o, tmp);
}

/* Header for one X25519 recipient; file_key is 16 bytes. */
static int build_header(const unsigned char pk[32],
			const unsigned char file_key[16], struct buf *h)
{
	unsigned char eph[32], share[32], shared[32], salt[64], wrap[32],
		body[32], mk[32], mac[32];
	static const unsigned char zero_nonce[12];
	int rc = -1;

	if (RAND_bytes(eph, 32) != 1 || x25519_public(eph, share) < 0 ||
	    x25519(eph, pk, shared) < 0)
		goto out;
	memcpy(salt, share, 32);
	memcpy(salt + 32, pk, 32);
	if (hkdf(shared, 32, salt, 64, "age-encryption.org/v1/X25519", wrap) < 0 ||
	    chacha(true, wrap, zero_nonce, file_key, 16, body) < 0)
		goto out;
	if (buf_puts(h, AGE_VERSION "\n-> X25519 ") < 0 ||
	    put_raw_b64(h, share, 32) < 0 || buf_putc(h, '\n') < 0 ||
	    put_raw_b64(h, body, 32) < 0 || buf_puts(h, "\n---") < 0)
		goto out;
	if (hkdf(file_key, 16, NULL, 0, "header", mk) < 0 ||
	    hmac256(mk, h->data, h->len, mac) < 0 || buf_putc(h, ' ') < 0 ||
	    put_raw_b64(h, mac, 32) < 0 || buf_putc(h, '\n') < 0)
		goto out;
	rc = 0;
out:
	explicit_bzero(eph, 32);
	explicit_bzero(shared, 32);
	explicit_bzero(wrap, 32);
	explicit_bzero(mk, 32);
	return rc;
}

static void chunk_nonce(unsigned char n[12], unsigned long long i, bool last)
{
	int k;

	memset(n, 0, 12);
	for (k = 10; k >= 3; k--, i >>= 8)
		n[k] = (unsigned char)(i & 0xff);
	n[11] = last ? 1 : 0;
}

static int seal_payload(const unsigned char file_key[16],
			const unsigned char *data, size_t len, struct buf *o)
{
	unsigned char nonce[16], key[32], cn[12];
	size_t off = 0;
	unsigned long long i = 0;
	int rc = -1;

	if (RAND_bytes(nonce, 16) != 1 ||
	    hkdf(file_key, 16, nonce, 16, "payload", key) < 0 ||
	    buf_append(o, nonce, 16) < 0)
		goto out;
	do {
		size_t n = len - off > CHUNK ? CHUNK : len - off;
		bool last = off + n == len;

		chunk_nonce(cn, i++, last);
		if (buf_reserve(o, n + 16) < 0 ||
		    chacha(true, key, cn, data + off, n,
			   (unsigned char *)o->data + o->len) < 0)
			goto out;
		o->len += n + 16;
		off += n;
	} while (off < len);
	rc = 0;
out:
	explicit_bzero(key, 32);
	return rc;
}

static int armor(const unsigned char *bin, size_t n, struct buf *out)
{
	size_t el = b64_encoded_len(n, B64_STD), i;
	char *t = malloc(el + 1);
	int rc = 0;

	if (!t)
		return err_set(EXIT_FAILED, "out of memory");
	b64_encode(bin, n, B64_STD, t);
	rc = buf_puts(out, ARMOR_BEGIN "\n");
	for (i = 0; i < el && rc == 0; i += 64)
		rc = buf_append(out, t + i, el - i > 64 ? 64 : el - i) < 0 ||
		     buf_putc(out, '\n') < 0 ? -1 : 0;
	free(t);
	return rc < 0 ? -1 : buf_puts(out, ARMOR_END "\n");
}

int sops_age_encrypt(const char *recipient, const unsigned char *data,
		     size_t len, struct buf *out)
{
	unsigned char pk[32], fk[16];
	struct buf bin = BUF_INIT;
	int rc = -1;

	if (sops_age_parse_recipient(recipient, pk) < 0)
		return -1;
	if (RAND_bytes(fk, 16) != 1) {
		err_set(EXIT_FAILED, "no random bytes");
		goto out;
	}
	if (build_header(pk, fk, &bin) < 0 ||
	    seal_payload(fk, data, len, &bin) < 0) {
		err_set(EXIT_FAILED, "age encryption failed");
		goto out;
	}
	rc = armor((const unsigned char *)bin.data, bin.len, out);
out:
	explicit_bzero(fk, 16);
	buf_free(&bin);
	return rc;
}

/* Strips the armor; the result is the binary age file. */
static int dearmor(const char *s, size_t n, struct buf *bin)
{
	struct buf b64 = BUF_INIT;
	const char *p, *end;
	size_t bl = strlen(ARMOR_BEGIN), outl;
	int rc = -1;

	while (n && isspace((unsigned char)*s))
		s++, n--;
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	if (n < bl || memcmp(s, ARMOR_BEGIN, bl))
		return buf_append(bin, s, n);	/* binary age file */
	end = s + n - strlen(ARMOR_END);
	if (end < s + bl || memcmp(end, ARMOR_END, strlen(ARMOR_END)))
		return err_set(EXIT_NO_KEY, "age armor has no END line");
	for (p = s + bl; p < end; p++)
		if (!isspace((unsigned char)*p) && buf_putc(&b64, *p) < 0)
			goto out;
	if (buf_reserve(bin, b64.len / 4 * 3 + 4) < 0)
		goto out;
	if (b64_decode(b64.data ? b64.data : "", b64.len, B64_STD,
		       (unsigned char *)bin->data + bin->len, &outl) < 0) {
		err_set(EXIT_NO_KEY, "age armor holds invalid base64");
		goto out;
	}
	bin->len += outl;
	rc = 0;
out:
	buf_free(&b64);
	return rc;
}

struct stanza {
	char args[4][128];
	int nargs;
	unsigned char body[256];
	size_t body_len;
};

static const char *line_end(const char *p, const char *end)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));

	return nl ? nl : NULL;
}

/* Parses "-> a b\nbody..." at *pp; advances it. */
static int parse_stanza(const char **pp, const char *end, struct stanza *st)
{
	const char *p = *pp + 3, *nl = line_end(p, end);
	char line[600];
	char *w, *save = NULL;
	size_t body_b64 = 0;
	char b64[400];

	if (!nl || (size_t)(nl - p) >= sizeof(line))
		return -1;
	memcpy(line, p, (size_t)(nl - p));
	line[nl - p] = '\0';
	st->nargs = 0;
	for (w = strtok_r(line, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		if (st->nargs == 4 || strlen(w) >= 128)
			return -1;
		strcpy(st->args[st->nargs++], w);
	}
	p = nl + 1;
	for (;;) {
		size_t ll;

		nl = line_end(p, end);
		if (!nl)
			return -1;
		ll = (size_t)(nl - p);
		if (ll > 64 || body_b64 + ll >= sizeof(b64))
			return -1;
		memcpy(b64 + body_b64, p, ll);
		body_b64 += ll;
		p = nl + 1;
		if (ll < 64)
			break;
	}
	if (b64_decode(b64, body_b64, B64_STD_RAW, st->body, &st->body_len) < 0)
		return -1;
	*pp = p;
	return 0;
}

static int unwrap_x25519(const struct stanza *st, const unsigned char sk[32],
			 unsigned char fk[16])
{
	unsigned char share[40], shared[32], pk[32], salt[64], wrap[32];
	size_t sl;
	static const unsigned char zero_nonce[12];
	int rc = -1;

	if (st->nargs != 2 || strcmp(st->args[0], "X25519") ||
	    b64_decode(st->args[1], strlen(st->args[1]), B64_STD_RAW, share,
		       &sl) < 0 || sl != 32 || st->body_len != 32)
		return -1;
	if (x25519_public(sk, pk) < 0 || x25519(sk, share, shared) < 0)
		goto out;
	memcpy(salt, share, 32);
	memcpy(salt + 32, pk, 32);
	if (hkdf(shared, 32, salt, 64, "age-encryption.org/v1/X25519", wrap) < 0)
		goto out;
	rc = chacha(false, wrap, zero_nonce, st->body, 32, fk);
out:
	explicit_bzero(shared, 32);
	explicit_bzero(wrap, 32);
	return rc;
}

/* Finds the file key with any identity; *hdr_len = bytes before "---". */
static int open_header(const char *s, size_t n, unsigned char fk[16],
		       size_t *mac_at, size_t *payload_at)
{
	const char *p = s, *end = s + n, *nl;
	struct stanza st;
	bool found = false;
	size_t i;

	nl = line_end(p, end);
	if (!nl || (size_t)(nl - p) != strlen(AGE_VERSION) ||
	    memcmp(p, AGE_VERSION, strlen(AGE_VERSION)))
		return err_set(EXIT_NO_KEY, "not an age v1 file");
	p = nl + 1;
	while (end - p > 3 && !memcmp(p, "-> ", 3)) {
		if (parse_stanza(&p, end, &st) < 0)
			return err_set(EXIT_NO_KEY, "malformed age header");
		for (i = 0; i < nids && !found; i++)
			found = unwrap_x25519(&st, ids[i], fk) == 0;
	}
	if (end - p < 4 || memcmp(p, "--- ", 4))
		return err_set(EXIT_NO_KEY, "malformed age header");
	*mac_at = (size_t)(p - s) + 3;
	nl = line_end(p, end);
	if (!nl)
		return err_set(EXIT_NO_KEY, "malformed age header");
	*payload_at = (size_t)(nl - s) + 1;
	if (!found)
		return err_set(EXIT_NO_KEY, "no age identity matches this "
			       "recipient (%zu identit%s loaded)", nids,
			       nids == 1 ? "y" : "ies");
	return 0;
}

static int check_mac(const char *s, size_t mac_at, size_t payload_at,
		     const unsigned char fk[16])
{
	unsigned char mk[32], mac[32], want[40];
	size_t wl;
	int rc;

	if (b64_decode(s + mac_at + 1, payload_at - mac_at - 2, B64_STD_RAW, want,
		       &wl) < 0 || wl != 32)
		return err_set(EXIT_NO_KEY, "malformed age header MAC");
	if (hkdf(fk, 16, NULL, 0, "header", mk) < 0 ||
	    hmac256(mk, s, mac_at, mac) < 0)
		return err_set(EXIT_FAILED, "HMAC failed");
	rc = CRYPTO_memcmp(mac, want, 32) ? -1 : 0;
	explicit_bzero(mk, 32);
	return rc < 0 ? err_set(EXIT_NO_KEY, "age header MAC mismatch") : 0;
}

static int open_payload(const unsigned char *p, size_t n,
			const unsigned char fk[16], struct buf *out)
{
	unsigned char key[32], cn[12];
	size_t off = 16;
	unsigned long long i = 0;
	int rc = -1;

	if (n < 32 || hkdf(fk, 16, p, 16, "payload", key) < 0)
		return err_set(EXIT_NO_KEY, "age payload too short");
	while (off < n) {
		size_t c = n - off > CHUNK + 16 ? CHUNK + 16 : n - off;
		bool last = off + c == n;

		chunk_nonce(cn, i++, last);
		if (c < 16 || (c == 16 && i > 1) || buf_reserve(out, c) < 0 ||
		    chacha(false, key, cn, p + off, c,
			   (unsigned char *)out->data + out->len) < 0) {
			err_set(EXIT_NO_KEY, "age payload does not authenticate");
			goto done;
		}
		out->len += c - 16;
		out->data[out->len] = '\0';
		off += c;
	}
	rc = 0;
done:
	explicit_bzero(key, 32);
	return rc;
}

int sops_age_decrypt(const char *file, size_t len, struct buf *out)
{
	struct buf bin = BUF_INIT;
	unsigned char fk[16];
	size_t mac_at, pay_at;
	int rc = -1;

	if (!ids_loaded && sops_age_load_env_identities() < 0)
		return -1;
	if (nids == 0)
		return err_set(EXIT_NO_KEY, "failed to load age identities: no "
			       "age identity found (SOPS_AGE_KEY, "
			       "SOPS_AGE_KEY_FILE, ~/.config/sops/age/keys.txt)");
	if (dearmor(file, len, &bin) < 0) {
		buf_free(&bin);
		return -1;
	}
	if (open_header(bin.data, bin.len, fk, &mac_at, &pay_at) == 0 &&
	    check_mac(bin.data, mac_at, pay_at, fk) == 0)
		rc = open_payload((const unsigned char *)bin.data + pay_at,
				  bin.len - pay_at, fk, out);
	explicit_bzero(fk, 16);
	buf_free(&bin);
	return rc;
}

/* ---- key type ----------------------------------------------------------- */

static int age_wrap(struct sops_key_req *reqs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		struct sops_key_req *r = &reqs[i];
		const char *rcpt = sops_entry_get(r->entry, "recipient");
		struct buf enc = BUF_INIT;

		r->status = -1;
		if (!rcpt)
			err_set(EXIT_USAGE, "age key entry without recipient");
		else if (sops_age_encrypt(rcpt, r->secret, r->secret_len, &enc) == 0 &&
			 sops_entry_set(r->entry, "enc", enc.data) == 0)
			r->status = 0;
		if (r->status < 0)
			err_save(&r->err);
		buf_free(&enc);
	}
	return 0;
}

static int age_unwrap(struct sops_key_req *reqs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		struct sops_key_req *r = &reqs[i];
		const char *enc = sops_entry_get(r->entry, "enc");
		struct buf pt;

		buf_init_secret(&pt);
		r->status = -1;
		if (!enc)
			err_set(EXIT_NO_KEY, "age key entry without enc");
		else if (sops_age_decrypt(enc, strlen(enc), &pt) == 0) {
			if (pt.len == 0 || pt.len > SOPS_SECRET_MAX) {
				err_set(EXIT_NO_KEY, "age payload has a bad size");
			} else {
				memcpy(r->secret, pt.data, pt.len);
				r->secret_len = pt.len;
				r->status = 0;
			}
		}
		if (r->status < 0)
			err_save(&r->err);
		buf_free(&pt);
	}
	return 0;
}

static void age_describe(const struct sops_key_entry *e, char *out,
			 size_t cap)
{
	const char *r = sops_entry_get(e, "recipient");

	snprintf(out, cap, "age %s", r ? r : "(no recipient)");
}

const struct sops_keytype sops_age_keytype = {
	"age", age_wrap, age_unwrap, age_describe
};
