#include "azure/azkv_key.h"

#include <bsd/string.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "azure/credential.h"
#include "azure/jose.h"
#include "azure/keyvault.h"
#include "sops/keys.h"
#include "sops/metadata.h"
#include "util/err.h"
#include "util/http.h"
#include "util/log.h"

#define MAX_KEYS 16

struct run {
	bool registered;
	enum azkv_wrap wrap;
	char *auth_name;
	long timeout_ms;
	struct http_client *http;
	struct az_auth *auth;
	struct az_kv *kv;
	/* public keys fetched this run, by the reference as written */
	struct {
		char ref[700];
		struct az_kv_key key;
		bool failed;		/* could not be read: go remote */
	} keys[MAX_KEYS];
	size_t nkeys;
};

static struct run run;

static void describe(const struct sops_key_entry *e, char *out, size_t cap)
{
	const char *v = sops_entry_get(e, "vault_url");
	const char *n = sops_entry_get(e, "name");
	const char *ver = sops_entry_get(e, "version");

	snprintf(out, cap, "%s/keys/%s%s%s", v ? v : "?", n ? n : "?",
		 ver && *ver ? "/" : "", ver ? ver : "");
}

static int clients(void)
{
	if (run.kv)
		return 0;
	if (!run.http)
		run.http = http_client_new("kubectl-sopsenc", 0);
	if (run.http && !run.auth)
		run.auth = az_auth_new(run.http, run.auth_name);
	if (run.auth)
		run.kv = az_kv_new(run.auth, run.http, run.timeout_ms);
	return run.kv ? 0 : -1;
}

static int entry_ref(const struct sops_key_entry *e, struct az_kv_ref *ref)
{
	char url[700];

	describe(e, url, sizeof(url));
	if (!sops_entry_get(e, "vault_url") || !sops_entry_get(e, "name"))
		return err_set(EXIT_USAGE, "azure_kv entry without vault_url "
			       "or name");
	return az_kv_parse_url(url, ref);
}

static void fail(struct sops_key_req *r)
{
	r->status = -1;
	err_save(&r->err);
}

/* ---- wrapping ------------------------------------------------------------- */

/* The run's copy of a key's public part, or NULL (error set) when it
 * cannot be read. */
static const struct az_kv_key *public_key(const struct az_kv_ref *ref)
{
	char s[700];
	size_t i;

	az_kv_ref_string(ref, s, sizeof(s));
	for (i = 0; i < run.nkeys; i++)
		if (strcmp(run.keys[i].ref, s) == 0) {
			if (!run.keys[i].failed)
				return &run.keys[i].key;
			err_set(EXIT_FAILED, "the public part of %s could not "
				"be read", s);
			return NULL;
		}
	if (run.nkeys == MAX_KEYS) {
		err_set(EXIT_USAGE, "more than %d Key Vault keys in one run",
			MAX_KEYS);
		return NULL;
	}
	i = run.nkeys++;
	strlcpy(run.keys[i].ref, s, sizeof(run.keys[i].ref));
	if (az_kv_get_key_cached(run.kv, ref, &run.keys[i].key) < 0) {
		run.keys[i].failed = true;
		return NULL;
	}
	return &run.keys[i].key;
}

static int set_enc(struct sops_key_req *r, const struct buf *ct,
		   const char *version)
{
	char now[32], *enc = az_b64url_encode(ct->data, ct->len);
	int rc = -1;

	sops_now_rfc3339(now);
	if (enc && sops_entry_set(r->entry, "enc", enc) == 0 &&
	    sops_entry_set(r->entry, "created_at", now) == 0 &&
	    (!version || sops_entry_set(r->entry, "version", version) == 0))
		rc = 0;
	free(enc);
	r->status = rc;
	if (rc < 0)
		err_save(&r->err);
	return rc;
}

/* 0 wrapped, 1 go remote, -1 failed. */
static int wrap_local(struct sops_key_req *r, const struct az_kv_ref *ref)
{
	const struct az_kv_key *k = public_key(ref);
	struct buf ct = BUF_INIT;
	int rc;

	if (!k || az_kv_key_usable_locally(k) < 0) {
		if (run.wrap == AZKV_WRAP_AUTO) {
			log_at(LOG_STEPS, "azure: local wrapping not possible "
			       "(%s); using Key Vault encrypt", err_msg());
			return 1;
		}
		err_prefix("--key-wrap local");
		err_hint("grant the key permission 'get' (Key Vault Crypto "
			 "User), or use --key-wrap remote or auto");
		fail(r);
		return -1;
	}
	rc = az_rsa_oaep256_encrypt(k->pkey, r->secret, r->secret_len, &ct);
	if (rc == 0)
		rc = set_enc(r, &ct, ref->version[0] ? NULL : k->version);
	else
		fail(r);
	buf_free(&ct);
	return rc;
}

static const char *version_of_kid(const char *kid)
{
	const char *slash = strrchr(kid, '/');

	return slash && slash[1] ? slash + 1 : NULL;
}

static void wrap_remote(struct sops_key_req *r, const struct az_kv_ref *ref)
{
	struct buf ct = BUF_INIT;
	char kid[600] = "";

	if (az_kv_crypt(run.kv, ref, AZ_KV_ENCRYPT, r->secret, r->secret_len,
			&ct, kid, sizeof(kid)) < 0) {
		fail(r);
	} else if (!ref->version[0] && !version_of_kid(kid)) {
		err_set(EXIT_FAILED, "Key Vault encrypt did not name the key "
			"version it used");
		fail(r);
	} else {
		set_enc(r, &ct, ref->version[0] ? NULL : version_of_kid(kid));
	}
	buf_free(&ct);
}

static int wrap(struct sops_key_req *reqs, size_t n)
{
	size_t i;

	if (clients() < 0)
		return -1;
	for (i = 0; i < n; i++) {
		struct sops_key_req *r = &reqs[i];
		struct az_kv_ref ref;
		int rc = 1;

		if (entry_ref(r->entry, &ref) < 0) {
			fail(r);
			continue;
		}
		if (run.wrap != AZKV_WRAP_REMOTE)
			rc = wrap_local(r, &ref);
		if (rc == 1)
			wrap_remote(r, &ref);
	}
	log_at(LOG_STEPS, "azure: %zu data key(s) wrapped, %u Key Vault "
	       "request(s) so far", n, az_kv_requests(run.kv));
	return 0;
}

/* ---- unwrapping ------------------------------------------------------------ */

struct unwrap_job {
	struct az_kv_ref ref;
	struct buf ct;
};

static int prepare_job(struct sops_key_req *r, struct unwrap_job *u,
		       struct az_kv_job *j)
{
	const char *enc = sops_entry_get(r->entry, "enc");

	if (entry_ref(r->entry, &u->ref) < 0)
		return -1;
	if (!enc || az_b64url_decode(enc, strlen(enc), &u->ct) < 0 ||
	    u->ct.len == 0)
		return err_set(EXIT_FAILED, "azure_kv entry for %s/keys/%s: enc "
			       "is not base64url", u->ref.vault_url,
			       u->ref.name);
	if (!u->ref.version[0])
		log_warn("azure_kv entry for %s/keys/%s has no version: the "
			 "latest version is used", u->ref.vault_url,
			 u->ref.name);
	j->ref = &u->ref;
	j->op = AZ_KV_DECRYPT;
	j->in = (const unsigned char *)u->ct.data;
	j->n = u->ct.len;
	return 0;
}

static void finish_job(struct sops_key_req *r, struct az_kv_job *j)
{
	if (j->result < 0) {
		r->status = -1;
		r->err = j->err;
		if (strstr(j->err.msg, "HTTP 400")) {
			char kid[700];

			az_kv_ref_string(j->ref, kid, sizeof(kid));
			az_kv_cache_drop(kid);
		}
		return;
	}
	if (j->out.len == 0 || j->out.len > SOPS_SECRET_MAX) {
		err_set(EXIT_FAILED, "Key Vault decrypt returned %zu bytes, "
			"not a data key", j->out.len);
		fail(r);
		return;
	}
	memcpy(r->secret, j->out.data, j->out.len);
	r->secret_len = j->out.len;
	r->status = 0;
}

static int unwrap(struct sops_key_req *reqs, size_t n)
{
	struct unwrap_job *u = calloc(n ? n : 1, sizeof(*u));
	struct az_kv_job *jobs = calloc(n ? n : 1, sizeof(*jobs));
	size_t i, m = 0, *idx = calloc(n ? n : 1, sizeof(*idx));

	if (!u || !jobs || !idx || clients() < 0) {
		if (!u || !jobs || !idx)
			err_set(EXIT_FAILED, "out of memory");
		free(u);
		free(jobs);
		free(idx);
		return -1;
	}
	for (i = 0; i < n; i++) {
		buf_init_secret(&jobs[m].out);
		if (prepare_job(&reqs[i], &u[m], &jobs[m]) < 0) {
			fail(&reqs[i]);
			buf_free(&u[m].ct);
			continue;
		}
		idx[m++] = i;
	}
	if (m)
		az_kv_crypt_many(run.kv, jobs, m, 8);
	for (i = 0; i < m; i++) {
		finish_job(&reqs[idx[i]], &jobs[i]);
		buf_free(&jobs[i].out);
		buf_free(&u[i].ct);
	}
	log_at(LOG_STEPS, "azure: %zu data key(s) unwrapped by Key Vault, %u "
	       "request(s) so far", m, az_kv_requests(run.kv));
	free(u);
	free(jobs);
	free(idx);
	return 0;
}

/* ---- registration ------------------------------------------------------------ */

static const struct sops_keytype azkv_type = {
	"azure_kv", wrap, unwrap, describe
};

static int parse_wrap(const char *s, enum azkv_wrap *w)
{
	if (!s || !*s || strcmp(s, "auto") == 0)
		*w = AZKV_WRAP_AUTO;
	else if (strcmp(s, "local") == 0)
		*w = AZKV_WRAP_LOCAL;
	else if (strcmp(s, "remote") == 0)
		*w = AZKV_WRAP_REMOTE;
	else {
		err_set(EXIT_USAGE, "invalid --key-wrap \"%s\"", s);
		return err_hint("use auto, local or remote");
	}
	return 0;
}

int azkv_register(const struct azkv_options *o)
{
	enum azkv_wrap w;
	char *name = NULL;

	if (parse_wrap(o ? o->key_wrap : NULL, &w) < 0)
		return -1;
	if (o && o->azure_auth && *o->azure_auth) {
		if (az_cred_parse(o->azure_auth) < 0)
			return -1;
		if (!(name = strdup(o->azure_auth)))
			return err_set(EXIT_FAILED, "out of memory");
	}
	free(run.auth_name);
	run.auth_name = name;
	run.wrap = w;
	run.timeout_ms = o ? o->request_timeout_ms : 0;
	if (run.registered)
		return 0;
	if (sops_keytype_register(&azkv_type) < 0)
		return -1;
	run.registered = true;
	return 0;
}

unsigned azkv_requests(void)
{
	return run.kv ? az_kv_requests(run.kv) : 0;
}

void azkv_shutdown(void)
{
	size_t i;

	for (i = 0; i < run.nkeys; i++)
		if (!run.keys[i].failed)
			az_kv_key_free(&run.keys[i].key);
	run.nkeys = 0;
	az_kv_free(run.kv);
	az_auth_free(run.auth);
	http_client_free(run.http);
	free(run.auth_name);
	run.kv = NULL;
	run.auth = NULL;
	run.http = NULL;
	run.auth_name = NULL;
}
