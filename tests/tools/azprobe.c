/*
 * azprobe - a small driver of common/azure for the integration tests.
 *
 *   azprobe [-v N] [--auth NAME] [--timeout MS] token [SCOPE]
 *   --assertion FILE: the workload identity credential with that token
 *   (az_auth_new_assertion, tenant/client from AZURE_TENANT_ID/CLIENT_ID)
 *   azprobe ... get URL            (through the public-key cache: --cached)
 *   azprobe ... encrypt URL HEX    (Key Vault encrypt; --local: locally)
 *   azprobe ... decrypt URL B64URL
 *   azprobe ... decrypt-many URL B64URL...   (concurrently)
 *   azprobe ... [--key-wrap MODE] files URL N
 *           N data keys wrapped for N "files" through the SOPS engine's
 *           batch API and the azure_kv key type, then recovered; prints
 *           the first entry's fields and the Key Vault requests of each
 *           phase
 *
 * Prints results on stdout (never a token: only the claims that name the
 * identity) and "requests=N" (Key Vault requests) on stderr.  Errors go
 * through err_report(), exit code as the library set it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bsd/stdlib.h>

#include "azure/azkv_key.h"
#include "azure/credential.h"
#include "azure/jose.h"
#include "azure/keyvault.h"
#include "util/err.h"
#include "util/http.h"
#include "util/log.h"
#include "sops/keys.h"
#include "sops/metadata.h"

struct opts {
	const char *auth;
	const char *key_wrap;
	const char *assertion;
	long timeout_ms;
	bool local, cached;
};

static int hex_decode(const char *s, unsigned char *out, size_t *n)
{
	size_t i, len = strlen(s);

	if (len % 2 || len / 2 > *n)
		return err_set(EXIT_USAGE, "bad hex");
	for (i = 0; i < len / 2; i++) {
		unsigned v;

		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return err_set(EXIT_USAGE, "bad hex");
		out[i] = (unsigned char)v;
	}
	*n = len / 2;
	return 0;
}

static void print_hex(const struct buf *b)
{
	size_t i;

	for (i = 0; i < b->len; i++)
		printf("%02x", (unsigned char)b->data[i]);
	printf("\n");
}

static int cmd_token(struct az_auth *a, const char *scope)
{
	const char *tok;
	cJSON *c;

	if (az_auth_token(a, scope, &tok) < 0)
		return -1;
	c = az_jwt_claims(tok);
	printf("credential=%s oid=%s appid=%s aud=%s\n", az_auth_used(a),
	       az_claim_str(c, "oid"), az_claim_str(c, "appid"),
	       az_claim_str(c, "aud"));
	cJSON_Delete(c);
	/* a second call must come from the cache */
	return az_auth_token(a, scope, &tok);
}

static int cmd_get(struct az_kv *kv, const struct az_kv_ref *ref,
		   const struct opts *o)
{
	struct az_kv_key k;
	int rc = o->cached ? az_kv_get_key_cached(kv, ref, &k)
			   : az_kv_get_key(kv, ref, &k);

	if (rc < 0)
		return -1;
	printf("kid=%s kty=%s enabled=%d ops=%u bits=%d cached=%d\n", k.kid,
	       k.kty, k.enabled, k.ops, EVP_PKEY_get_bits(k.pkey),
	       k.from_cache);
	az_kv_key_free(&k);
	return 0;
}

static int cmd_encrypt(struct az_kv *kv, const struct az_kv_ref *ref,
		       const char *hex, const struct opts *o)
{
	unsigned char in[512];
	size_t n = sizeof(in);
	struct buf out = BUF_INIT;
	char *b64 = NULL, kid[600] = "";
	int rc = -1;

	if (hex_decode(hex, in, &n) < 0)
		return -1;
	if (o->local) {
		struct az_kv_key k;

		if (az_kv_get_key_cached(kv, ref, &k) == 0) {
			rc = az_rsa_oaep256_encrypt(k.pkey, in, n, &out);
			snprintf(kid, sizeof(kid), "%s", k.kid);
			az_kv_key_free(&k);
		}
	} else {
		rc = az_kv_crypt(kv, ref, AZ_KV_ENCRYPT, in, n, &out, kid,
				 sizeof(kid));
	}
	if (rc == 0 && (b64 = az_b64url_encode(out.data, out.len)))
		printf("%s\nkid=%s\n", b64, kid);
	free(b64);
	buf_free(&out);
	return rc;
}

static int cmd_decrypt_many(struct az_kv *kv, const struct az_kv_ref *ref,
			    char **vals, int n)
{
	struct az_kv_job *jobs = calloc((size_t)n, sizeof(*jobs));
	struct buf *ins = calloc((size_t)n, sizeof(*ins));
	int i, rc = -1;

	if (!jobs || !ins)
		goto out;
	for (i = 0; i < n; i++) {
		if (az_b64url_decode(vals[i], strlen(vals[i]), &ins[i]) < 0) {
			err_set(EXIT_USAGE, "bad base64url");
			goto out;
		}
		jobs[i].ref = ref;
		jobs[i].op = AZ_KV_DECRYPT;
		jobs[i].in = (const unsigned char *)ins[i].data;
		jobs[i].n = ins[i].len;
		buf_init_secret(&jobs[i].out);
	}
	rc = az_kv_crypt_many(kv, jobs, (size_t)n, 8);
	for (i = 0; rc == 0 && i < n; i++)
		print_hex(&jobs[i].out);
out:
	for (i = 0; jobs && ins && i < n; i++) {
		buf_free(&jobs[i].out);
		buf_free(&ins[i]);
	}
	free(jobs);
	free(ins);
	return rc;
}

static int files_setup(struct sops_metadata *md, size_t n,
		       const struct az_kv_ref *ref)
{
	size_t i;

	for (i = 0; i < n; i++) {
		struct sops_key_entry *e;

		if (sops_metadata_add_group(&md[i]) < 0 ||
		    !(e = sops_group_add(&md[i].groups[0], "azure_kv")) ||
		    sops_entry_set(e, "vault_url", ref->vault_url) < 0 ||
		    sops_entry_set(e, "name", ref->name) < 0 ||
		    sops_entry_set(e, "version", ref->version) < 0)
			return -1;
	}
	return 0;
}

static int files_check(struct sops_metadata **md, size_t n,
		       unsigned char (*keys)[32])
{
	unsigned char (*got)[32] = calloc(n, 32);
	int *status = calloc(n, sizeof(int));
	struct err_record *errs = calloc(n, sizeof(*errs));
	unsigned before = azkv_requests();
	size_t i, same = 0;
	int rc = -1;

	if (got && status && errs &&
	    sops_data_keys_recover(md, n, got, status, errs) == 0) {
		for (i = 0; i < n; i++)
			same += memcmp(got[i], keys[i], 32) == 0;
		printf("recovered=%zu of %zu unwrap_requests=%u\n", same, n,
		       azkv_requests() - before);
		rc = same == n ? 0 : err_set(EXIT_FAILED, "keys differ");
	} else if (errs) {
		for (i = 0; i < n && status && status[i] == 0; i++)
			;
		if (i < n)
			err_restore(&errs[i]);
	}
	free(got);
	free(status);
	free(errs);
	return rc;
}

static int cmd_files(const struct opts *o, const struct az_kv_ref *ref,
		     size_t n)
{
	struct azkv_options ao = { o->auth, o->timeout_ms, o->key_wrap };
	struct sops_metadata *md = calloc(n, sizeof(*md));
	struct sops_metadata **mdp = calloc(n, sizeof(*mdp));
	unsigned char (*keys)[32] = calloc(n, 32);
	const struct sops_key_entry *e;
	size_t i;
	int rc = -1;

	if (!md || !mdp || !keys || azkv_register(&ao) < 0 ||
	    files_setup(md, n, ref) < 0)
		goto out;
	for (i = 0; i < n; i++) {
		arc4random_buf(keys[i], 32);
		mdp[i] = &md[i];
	}
	if (sops_data_keys_wrap(mdp, n, keys) < 0)
		goto out;
	e = &md[0].groups[0].keys[0];
	printf("wrap_requests=%u\nversion=%s\ncreated_at=%s\nenc=%s\n",
	       azkv_requests(), sops_entry_get(e, "version"),
	       sops_entry_get(e, "created_at"), sops_entry_get(e, "enc"));
	rc = files_check(mdp, n, keys);
out:
	for (i = 0; md && i < n; i++)
		sops_metadata_free(&md[i]);
	if (keys)
		explicit_bzero(keys, n * 32);
	free(md);
	free(mdp);
	free(keys);
	azkv_shutdown();
	return rc;
}

static struct az_auth *new_auth(struct http_client *http,
				const struct opts *o)
{
	struct buf b = BUF_INIT;
	struct az_auth *a = NULL;
	FILE *f;
	char chunk[4096];
	size_t n;

	if (!o->assertion)
		return az_auth_new(http, o->auth);
	if (!(f = fopen(o->assertion, "r"))) {
		err_set(EXIT_USAGE, "cannot read %s", o->assertion);
		return NULL;
	}
	buf_init_secret(&b);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(&b, chunk, n);
	fclose(f);
	if (b.data && getenv("AZURE_TENANT_ID") && getenv("AZURE_CLIENT_ID"))
		a = az_auth_new_assertion(http, getenv("AZURE_TENANT_ID"),
					  getenv("AZURE_CLIENT_ID"), b.data);
	else
		err_set(EXIT_USAGE, "--assertion needs AZURE_TENANT_ID and "
			"AZURE_CLIENT_ID");
	buf_free(&b);
	return a;
}

static int run(const struct opts *o, int argc, char **argv)
{
	struct http_client *http = http_client_new("azprobe", 0);
	struct az_auth *a = http ? new_auth(http, o) : NULL;
	struct az_kv *kv = a ? az_kv_new(a, http, o->timeout_ms) : NULL;
	struct az_kv_ref ref;
	int rc = -1;

	if (!kv)
		goto out;
	if (strcmp(argv[0], "token") == 0)
		rc = cmd_token(a, argc > 1 ? argv[1]
					   : "https://vault.azure.net/.default");
	else if (argc < 2 || az_kv_parse_url(argv[1], &ref) < 0)
		rc = argc < 2 ? err_set(EXIT_USAGE, "missing URL") : -1;
	else if (strcmp(argv[0], "files") == 0 && argc == 3)
		rc = cmd_files(o, &ref, (size_t)atol(argv[2]));
	else if (strcmp(argv[0], "get") == 0)
		rc = cmd_get(kv, &ref, o);
	else if (strcmp(argv[0], "encrypt") == 0 && argc == 3)
		rc = cmd_encrypt(kv, &ref, argv[2], o);
	else if (strcmp(argv[0], "decrypt") == 0 && argc == 3)
		rc = cmd_decrypt_many(kv, &ref, argv + 2, 1);
	else if (strcmp(argv[0], "decrypt-many") == 0 && argc >= 3)
		rc = cmd_decrypt_many(kv, &ref, argv + 2, argc - 2);
	else
		rc = err_set(EXIT_USAGE, "unknown command %s", argv[0]);
	fprintf(stderr, "requests=%u\n", az_kv_requests(kv));
out:
	az_kv_free(kv);
	az_auth_free(a);
	http_client_free(http);
	return rc;
}

int main(int argc, char **argv)
{
	struct opts o = { NULL, NULL, NULL, 0, false, false };
	int i = 1;

	log_init("azprobe");
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "-v") == 0 && i + 1 < argc)
			log_set_verbosity(atoi(argv[++i]));
		else if (strcmp(argv[i], "--auth") == 0 && i + 1 < argc)
			o.auth = argv[++i];
		else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc)
			o.timeout_ms = atol(argv[++i]);
		else if (strcmp(argv[i], "--assertion") == 0 && i + 1 < argc)
			o.assertion = argv[++i];
		else if (strcmp(argv[i], "--key-wrap") == 0 && i + 1 < argc)
			o.key_wrap = argv[++i];
		else if (strcmp(argv[i], "--local") == 0)
			o.local = true;
		else if (strcmp(argv[i], "--cached") == 0)
			o.cached = true;
		else
			break;
	}
	if (i >= argc) {
		fprintf(stderr, "usage: azprobe [-v N] [--auth NAME] "
			"[--timeout MS] [--local] [--cached] token|get|encrypt|"
			"decrypt|decrypt-many ...\n");
		return 2;
	}
	if (run(&o, argc - i, argv + i) < 0)
		return err_report();
	return 0;
}
