/*
 * report.c - the verdicts as a table (with the explanations a person needs
 * for what is not OK) or as the JSON document of docs/sopsverify-json.md.
 * Nothing here sees a value: only key names, verdicts, fingerprints and
 * what Flux reported.
 */
#include "verify.h"

#include <stdlib.h>
#include <string.h>

#include "cli/output.h"
#include "util/err.h"

#define MSG_LINES 8
#define MSG_WIDTH 400

void vs_ks_summary_free(struct vs_ks_summary *k)
{
	vs_owner_free(&k->ks);
	free(k->target_namespace);
	free(k->source_kind);
	free(k->source_namespace);
	free(k->source_name);
	free(k->source_rev);
	vs_inv_free(k->inv_only, k->ninv_only);
	memset(k, 0, sizeof(*k));
}

bool vs_all_ok(const struct vs_set *set)
{
	for (size_t i = 0; i < set->n; i++)
		if (set->s[i].verdict != VS_OK)
			return false;
	return set->n > 0;
}

static const char *or_dash(const char *s)
{
	return s && *s ? s : "-";
}

/* A Ready message, indented, at most MSG_LINES lines of MSG_WIDTH. */
static void print_ready_message(FILE *out, const char *label, const char *msg)
{
	const char *p = msg;
	int lines = 0;

	if (!msg || !*msg)
		return;
	fprintf(out, "    %s", label);
	while (*p && lines < MSG_LINES) {
		size_t n = strcspn(p, "\n");

		if (n > 0 || lines == 0) {
			fprintf(out, "%s%.*s%s\n", lines ? "      " : "",
				(int)(n > MSG_WIDTH ? MSG_WIDTH : n), p,
				n > MSG_WIDTH ? "..." : "");
			lines++;
		}
		p += n;
		if (*p == '\n')
			p++;
	}
	if (*p)
		fprintf(out, "      ...\n");
}

static void print_owner(FILE *out, const struct vs_owner *o)
{
	fprintf(out, "    owner: Kustomization %s/%s (by %s); Ready=%s%s%s; "
		"decryption.provider: %s\n", o->namespace, o->name, o->via,
		or_dash(o->ready_status), o->ready_reason ? " " : "",
		o->ready_reason ? o->ready_reason : "",
		o->has_sops ? "sops" : "not set");
	/* the named Kustomization's message is already at the top */
	if (strcmp(o->via, "--kustomization") != 0)
		print_ready_message(out, "message: ", o->ready_message);
}

static void print_explanations(FILE *out, const struct vs_set *set)
{
	for (size_t i = 0; i < set->n; i++) {
		const struct vs_secret *s = &set->s[i];

		if (s->verdict == VS_OK)
			continue;
		fprintf(out, "\n%s/%s: %s (%s, document %d)\n",
			or_dash(s->namespace), s->name,
			vs_verdict_name(s->verdict), s->file, s->doc + 1);
		if (s->detail)
			fprintf(out, "    %s\n", s->detail);
		if (s->owner.name)
			print_owner(out, &s->owner);
		if (s->next_step)
			fprintf(out, "    next: %s\n", s->next_step);
	}
}

static void print_ks(FILE *out, const struct vs_ks_summary *k)
{
	const struct vs_owner *o = &k->ks;

	fprintf(out, "Kustomization %s/%s: Ready=%s%s%s\n", o->namespace,
		o->name, or_dash(o->ready_status), o->ready_reason ? " " : "",
		o->ready_reason ? o->ready_reason : "");
	fprintf(out, "    applied revision:  %s\n", or_dash(o->applied_rev));
	if (o->attempted_rev && (!o->applied_rev ||
				 strcmp(o->attempted_rev, o->applied_rev)))
		fprintf(out, "    attempted revision: %s\n", o->attempted_rev);
	fprintf(out, "    source revision:   %s (%s %s/%s)%s\n",
		or_dash(k->source_rev), or_dash(k->source_kind),
		or_dash(k->source_namespace), or_dash(k->source_name),
		k->source_rev && o->applied_rev &&
		strcmp(k->source_rev, o->applied_rev) ? ", not applied yet"
						       : "");
	fprintf(out, "    decryption.provider: %s; targetNamespace: %s\n",
		o->has_sops ? "sops" : "not set", or_dash(k->target_namespace));
	if (o->ready_status && strcmp(o->ready_status, "True") != 0)
		print_ready_message(out, "message: ", o->ready_message);
	fprintf(out, "\n");
}

static void print_inventory_diff(FILE *out, const struct vs_set *set,
				 const struct vs_ks_summary *k)
{
	for (size_t i = 0; i < k->ninv_only; i++)
		fprintf(out, "%s%s/%s\n", i == 0 ? "\nIn the inventory, but no "
			"local file encrypts it:\n    " : "    ",
			k->inv_only[i].namespace, k->inv_only[i].name);
	for (size_t i = 0, first = 1; i < set->n; i++) {
		if (set->s[i].in_inventory)
			continue;
		fprintf(out, "%s%s/%s (%s)\n", first ? "\nEncrypted locally, "
			"but not in the inventory:\n    " : "    ",
			or_dash(set->s[i].namespace), set->s[i].name,
			set->s[i].file);
		first = 0;
	}
}

static void count(const struct vs_set *set, size_t counts[VS_ERROR + 1])
{
	memset(counts, 0, sizeof(size_t) * (VS_ERROR + 1));
	for (size_t i = 0; i < set->n; i++)
		counts[set->s[i].verdict]++;
}

static void print_summary(FILE *out, const struct vs_set *set)
{
	size_t c[VS_ERROR + 1];
	int first = 1;

	count(set, c);
	fprintf(out, "\n%zu Secret%s:", set->n, set->n == 1 ? "" : "s");
	for (int v = VS_OK; v <= VS_ERROR; v++) {
		if (!c[v])
			continue;
		fprintf(out, "%s %zu %s", first ? "" : ",", c[v],
			vs_verdict_name((enum vs_verdict)v));
		first = 0;
	}
	fprintf(out, "\n");
}

int vs_report_table(FILE *out, const struct vs_set *set,
		    const struct vs_ks_summary *ks, bool color)
{
	static const char *const hdr[] = {
		"NAMESPACE", "NAME", "VERDICT", "DETAIL", NULL
	};
	struct table *t;

	if (ks)
		print_ks(out, ks);
	if (set->n == 0) {
		fprintf(out, "No SOPS-encrypted Secret manifests found.\n");
		if (ks)
			print_inventory_diff(out, set, ks);
		return 0;
	}
	t = table_new(hdr);
	if (!t)
		return err_set(EXIT_FAILED, "out of memory");
	table_color_word(t, "OK", "\033[32m");
	table_color_word(t, "MISMATCH", "\033[31m");
	table_color_word(t, "MISSING", "\033[31m");
	table_color_word(t, "ENCRYPTED", "\033[31m");
	table_color_word(t, "ERROR", "\033[31m");
	for (size_t i = 0; i < set->n; i++) {
		const struct vs_secret *s = &set->s[i];
		const char *row[] = { or_dash(s->namespace), s->name,
				      vs_verdict_name(s->verdict),
				      or_dash(s->detail) };

		if (table_add(t, row) < 0) {
			table_free(t);
			return -1;
		}
	}
	table_print(t, out, color);
	table_free(t);
	print_explanations(out, set);
	if (ks)
		print_inventory_diff(out, set, ks);
	print_summary(out, set);
	return 0;
}

/* ---- JSON --------------------------------------------------------------- */

static cJSON *strv_json(char **v, size_t n)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; a && i < n; i++) {
		cJSON *s = cJSON_CreateString(v[i]);

		if (!s || !cJSON_AddItemToArray(a, s)) {
			cJSON_Delete(s);
			cJSON_Delete(a);
			return NULL;
		}
	}
	return a;
}

static bool add_str(cJSON *o, const char *name, const char *v)
{
	return v ? cJSON_AddStringToObject(o, name, v) != NULL
		 : cJSON_AddNullToObject(o, name) != NULL;
}

static bool add_item(cJSON *o, const char *name, cJSON *item)
{
	if (!item)
		return false;
	if (!cJSON_AddItemToObject(o, name, item)) {
		cJSON_Delete(item);
		return false;
	}
	return true;
}

static cJSON *owner_json(const struct vs_owner *o)
{
	cJSON *j, *r;

	if (!o->name)
		return cJSON_CreateNull();
	j = cJSON_CreateObject();
	r = cJSON_CreateObject();
	if (!j || !r || !add_str(j, "namespace", o->namespace) ||
	    !add_str(j, "name", o->name) || !add_str(j, "via", o->via) ||
	    !add_str(r, "status", o->ready_status) ||
	    !add_str(r, "reason", o->ready_reason) ||
	    !add_str(r, "message", o->ready_message) ||
	    !add_item(j, "ready", r) ||
	    !add_str(j, "decryptionProvider", o->has_sops ? "sops" : NULL) ||
	    !add_str(j, "lastAppliedRevision", o->applied_rev) ||
	    !add_str(j, "lastAttemptedRevision", o->attempted_rev)) {
		if (r && !cJSON_GetObjectItemCaseSensitive(j, "ready"))
			cJSON_Delete(r);
		cJSON_Delete(j);
		return NULL;
	}
	return j;
}

static cJSON *notes_json(const struct vs_secret *s)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; a && i < s->nnotes; i++) {
		cJSON *n = cJSON_CreateObject();

		if (!n || !cJSON_AddItemToArray(a, n) ||
		    !add_str(n, "key", s->notes[i].key) ||
		    !add_str(n, "gitFingerprint", s->notes[i].fp_git[0] ?
			     s->notes[i].fp_git : NULL) ||
		    !add_str(n, "liveFingerprint", s->notes[i].fp_live[0] ?
			     s->notes[i].fp_live : NULL)) {
			cJSON_Delete(a);
			return NULL;
		}
	}
	return a;
}

static cJSON *keys_json(const struct vs_secret *s)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; a && i < s->nkeys; i++) {
		cJSON *k = cJSON_CreateString(s->keys[i].name);

		if (!k || !cJSON_AddItemToArray(a, k)) {
			cJSON_Delete(k);
			cJSON_Delete(a);
			return NULL;
		}
	}
	return a;
}

static cJSON *secret_json(const struct vs_secret *s, bool with_inv)
{
	cJSON *j = cJSON_CreateObject();

	if (!j || !add_str(j, "namespace", s->namespace) ||
	    !add_str(j, "name", s->name) || !add_str(j, "file", s->file) ||
	    !cJSON_AddNumberToObject(j, "document", s->doc + 1) ||
	    !add_str(j, "verdict", vs_verdict_name(s->verdict)) ||
	    !add_str(j, "detail", s->detail) ||
	    !add_item(j, "keys", keys_json(s)) ||
	    !add_item(j, "missingKeys", strv_json(s->missing_keys,
						  s->nmissing)) ||
	    !add_item(j, "extraKeys", strv_json(s->extra_keys, s->nextra)) ||
	    !add_item(j, "encryptedKeys", strv_json(s->encrypted_keys,
						    s->nencrypted)) ||
	    !add_item(j, "differentValues", notes_json(s)) ||
	    !add_item(j, "owner", owner_json(&s->owner)) ||
	    !add_str(j, "changedBy", s->edited_by) ||
	    !add_str(j, "nextStep", s->next_step) ||
	    (with_inv && !cJSON_AddBoolToObject(j, "inInventory",
						s->in_inventory))) {
		cJSON_Delete(j);
		return NULL;
	}
	return j;
}

static cJSON *inv_json(const struct vs_inv_ref *r, size_t n)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; a && i < n; i++) {
		cJSON *o = cJSON_CreateObject();

		if (!o || !cJSON_AddItemToArray(a, o)) {
			cJSON_Delete(o);
			cJSON_Delete(a);
			return NULL;
		}
		if (!add_str(o, "namespace", r[i].namespace) ||
		    !add_str(o, "name", r[i].name)) {
			cJSON_Delete(a);
			return NULL;
		}
	}
	return a;
}

static cJSON *ks_json(const struct vs_ks_summary *k)
{
	cJSON *j = owner_json(&k->ks), *src;

	if (!j)
		return NULL;
	cJSON_DeleteItemFromObjectCaseSensitive(j, "via");
	src = cJSON_CreateObject();
	if (!src || !add_str(src, "kind", k->source_kind) ||
	    !add_str(src, "namespace", k->source_namespace) ||
	    !add_str(src, "name", k->source_name) ||
	    !add_str(src, "revision", k->source_rev) ||
	    !add_item(j, "source", src) ||
	    !add_str(j, "targetNamespace", k->target_namespace) ||
	    !add_item(j, "inventoryOnly", inv_json(k->inv_only,
						   k->ninv_only))) {
		if (src && !cJSON_GetObjectItemCaseSensitive(j, "source"))
			cJSON_Delete(src);
		cJSON_Delete(j);
		return NULL;
	}
	return j;
}

static cJSON *summary_json(const struct vs_set *set)
{
	size_t c[VS_ERROR + 1];
	cJSON *j = cJSON_CreateObject();

	count(set, c);
	if (!j || !cJSON_AddNumberToObject(j, "total", (double)set->n)) {
		cJSON_Delete(j);
		return NULL;
	}
	for (int v = VS_OK; v <= VS_ERROR; v++) {
		if (!cJSON_AddNumberToObject(j, vs_verdict_name(v),
					     (double)c[v])) {
			cJSON_Delete(j);
			return NULL;
		}
	}
	return j;
}

cJSON *vs_report_json(const struct vs_set *set,
		      const struct vs_ks_summary *ks, bool decrypt)
{
	cJSON *j = cJSON_CreateObject(), *a = cJSON_CreateArray();

	if (!j || !a || !add_str(j, "apiVersion", "sopsverify/v1") ||
	    !add_str(j, "kind", "VerifyResult") ||
	    !cJSON_AddBoolToObject(j, "ok", vs_all_ok(set)) ||
	    !cJSON_AddBoolToObject(j, "decrypt", decrypt) ||
	    !add_item(j, "summary", summary_json(set)) ||
	    !add_item(j, "kustomization", ks ? ks_json(ks)
					     : cJSON_CreateNull()) ||
	    !add_item(j, "warnings", strv_json(set->warnings,
					       set->nwarnings)))
		goto fail;
	if (!cJSON_AddItemToObject(j, "secrets", a))
		goto fail;
	for (size_t i = 0; i < set->n; i++) {
		cJSON *s = secret_json(&set->s[i], ks != NULL);

		if (!s || !cJSON_AddItemToArray(a, s)) {
			cJSON_Delete(s);
			cJSON_Delete(j);
			err_set(EXIT_FAILED, "out of memory");
			return NULL;
		}
	}
	return j;
fail:
	if (a && !cJSON_GetObjectItemCaseSensitive(j, "secrets"))
		cJSON_Delete(a);
	cJSON_Delete(j);
	err_set(EXIT_FAILED, "out of memory");
	return NULL;
}
