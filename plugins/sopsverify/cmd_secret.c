/*
 * cmd_secret.c - kubectl sopsverify secret NAME: the seed's
 * `kubectl get secret NAME -o jsonpath=... | base64 -d`, as one command
 * that shows keys and sizes, masks the values unless --show-values, and
 * warns when a value is still SOPS text (Flux applied it undecrypted).
 */
#include "sopsverify.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/output.h"
#include "cluster.h"
#include "util/err.h"
#include "util/log.h"
#include "verify.h"

#define MASK "********"

struct view {
	const char *ns, *name;
	bool show, color;
	cJSON *secret;
	size_t nencrypted;
};

/* Printable copy of a value: control and non-ASCII bytes escaped. */
static int escape_value(const struct buf *v, struct buf *out)
{
	for (size_t i = 0; i < v->len; i++) {
		unsigned char c = (unsigned char)v->data[i];
		int rc;

		if (c == '\n')
			rc = buf_puts(out, "\\n");
		else if (c == '\\')
			rc = buf_puts(out, "\\\\");
		else if (isprint(c))
			rc = buf_putc(out, (char)c);
		else
			rc = buf_printf(out, "\\x%02x", c);
		if (rc < 0)
			return -1;
	}
	return 0;
}

static const char *type_of(const cJSON *s)
{
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(s, "type");

	return cJSON_IsString(t) ? t->valuestring : "Opaque";
}

static int table_row(struct table *t, const char *key, const struct buf *v,
		     bool enc, bool show)
{
	char size[32];
	struct buf shown;
	int rc;

	buf_init_secret(&shown);
	snprintf(size, sizeof(size), "%zu", v->len);
	rc = show ? escape_value(v, &shown) : buf_puts(&shown, MASK);
	if (rc == 0) {
		const char *row[] = { key, size, enc ? "SOPS-ENCRYPTED" : "",
				      shown.data };

		rc = table_add(t, row);
	}
	buf_free(&shown);
	return rc;
}

static int json_row(cJSON *keys, const char *key, const struct buf *v,
		    bool enc, bool show)
{
	cJSON *k = cJSON_CreateObject();
	struct buf shown;
	int rc = 0;

	if (!k || !cJSON_AddItemToArray(keys, k)) {
		cJSON_Delete(k);
		return err_set(EXIT_FAILED, "out of memory");
	}
	buf_init_secret(&shown);
	if (!cJSON_AddStringToObject(k, "key", key) ||
	    !cJSON_AddNumberToObject(k, "size", (double)v->len) ||
	    !cJSON_AddBoolToObject(k, "sopsEncrypted", enc))
		rc = err_set(EXIT_FAILED, "out of memory");
	if (rc == 0 && show && (escape_value(v, &shown) < 0 ||
				!cJSON_AddStringToObject(k, "value",
							 shown.data)))
		rc = err_set(EXIT_FAILED, "out of memory");
	buf_free(&shown);
	return rc;
}

static int rows(struct view *w, struct table *t, cJSON *keys)
{
	const cJSON *data = cJSON_GetObjectItemCaseSensitive(w->secret, "data");
	const cJSON *v;
	struct buf val;
	int rc = 0;

	buf_init_secret(&val);
	cJSON_ArrayForEach(v, data) {
		bool enc;

		if (vs_live_value(w->secret, v->string, &val) < 0) {
			rc = err_set(EXIT_FAILED, "key %s: the API server "
				     "returned invalid base64", v->string);
			break;
		}
		enc = vs_looks_encrypted(val.data, val.len);
		w->nencrypted += enc;
		rc = t ? table_row(t, v->string, &val, enc, w->show)
		       : json_row(keys, v->string, &val, enc, w->show);
		if (rc < 0)
			break;
	}
	buf_free(&val);
	return rc;
}

static int print_table(struct view *w)
{
	static const char *const hdr[] = { "KEY", "SIZE", "WARNING", "VALUE",
					   NULL };
	struct table *t = table_new(hdr);
	int rc;

	if (!t)
		return err_set(EXIT_FAILED, "out of memory");
	rc = rows(w, t, NULL);
	if (rc == 0) {
		printf("Secret %s/%s, type %s, %d key(s)\n", w->ns, w->name,
		       type_of(w->secret), cJSON_GetArraySize(
			       cJSON_GetObjectItemCaseSensitive(w->secret,
								"data")));
		table_print(t, stdout, w->color);
	}
	table_free(t);
	return rc;
}

static int print_json(struct view *w, const char *fmt)
{
	cJSON *doc = cJSON_CreateObject(), *keys = cJSON_CreateArray();
	int rc = -1;

	if (!doc || !keys || !cJSON_AddItemToObject(doc, "keys", keys)) {
		cJSON_Delete(keys);
		cJSON_Delete(doc);
		return err_set(EXIT_FAILED, "out of memory");
	}
	if (!cJSON_AddStringToObject(doc, "apiVersion", "sopsverify/v1") ||
	    !cJSON_AddStringToObject(doc, "kind", "SecretView") ||
	    !cJSON_AddStringToObject(doc, "namespace", w->ns) ||
	    !cJSON_AddStringToObject(doc, "name", w->name) ||
	    !cJSON_AddStringToObject(doc, "type", type_of(w->secret)))
		err_set(EXIT_FAILED, "out of memory");
	else if (rows(w, NULL, keys) == 0 &&
		 cJSON_AddBoolToObject(doc, "sopsEncrypted", w->nencrypted > 0))
		rc = strcmp(fmt, "yaml") == 0 ? output_yaml(stdout, doc)
					      : output_json(stdout, doc);
	vs_json_wipe_delete(doc);
	return rc;
}

static int show(struct cli_ctx *ctx, struct view *w)
{
	const char *o = ctx->g.output ? ctx->g.output : "table";
	int rc = strcmp(o, "table") == 0 ? print_table(w) : print_json(w, o);

	if (rc < 0)
		return -1;
	if (fflush(stdout) != 0)
		return err_set(EXIT_WRITE, "cannot write the output");
	if (w->nencrypted == 0)
		return 0;
	log_warn("%zu value(s) of Secret %s/%s still look SOPS-encrypted "
		 "(ENC[AES256_GCM,...]): Flux applied the manifest without "
		 "decrypting it", w->nencrypted, w->ns, w->name);
	log_hint("give its Kustomization 'decryption: {provider: sops}'; "
		 "'kubectl sopsverify PATH' explains which one");
	return EXIT_FAILED;
}

int sopsverify_secret(struct cli_ctx *ctx, void *args)
{
	struct sopsverify_args *a = args;
	struct kube_client *kc = NULL;
	struct view w;
	int rc;

	if (ctx->argc != 1)
		return cli_usage_error(ctx, "expected one Secret name, got %d",
				       ctx->argc);
	memset(&w, 0, sizeof(w));
	w.name = ctx->argv[0];
	w.show = a->show_values;
	w.color = ctx->color;
	if (cli_kube_open(ctx, &kc) < 0)
		return -1;
	w.ns = ctx->g.namespace ? ctx->g.namespace : kube_client_namespace(kc);
	rc = kube_get_secret(kc, w.ns, w.name, &w.secret);
	if (rc == 0)
		rc = show(ctx, &w);
	vs_json_wipe_delete(w.secret);
	kube_client_close(kc);
	return rc;
}
