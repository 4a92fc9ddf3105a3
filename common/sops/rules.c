#include "sops/rules.h"

#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/err.h"

static const char *const NAMES[SOPS_RULE_COUNT] = {
	NULL, "unencrypted_suffix", "encrypted_suffix", "unencrypted_regex",
	"encrypted_regex", "unencrypted_comment_regex",
	"encrypted_comment_regex"
};

const char *sops_rule_name(enum sops_rule_kind k)
{
	return (k > 0 && k < SOPS_RULE_COUNT) ? NAMES[k] : NULL;
}

enum sops_rule_kind sops_rule_from_name(const char *name)
{
	int k;

	for (k = 1; k < SOPS_RULE_COUNT; k++)
		if (!strcmp(NAMES[k], name))
			return (enum sops_rule_kind)k;
	return SOPS_RULE_NONE;
}

static int put_class(struct buf *o, char c)
{
	switch (c) {
	case 'd': return buf_puts(o, "[0-9]");
	case 'D': return buf_puts(o, "[^0-9]");
	case 'w': return buf_puts(o, "[A-Za-z0-9_]");
	case 'W': return buf_puts(o, "[^A-Za-z0-9_]");
	case 's': return buf_puts(o, "[[:space:]]");
	case 'S': return buf_puts(o, "[^[:space:]]");
	default: return 1;
	}
}

/* Rewrites RE2 spellings POSIX ERE lacks; *icase gets a (?i) prefix. */
static int translate(const char *p, struct buf *o, int *icase)
{
	bool in_class = false;

	if (!strncmp(p, "(?i)", 4)) {
		*icase = 1;
		p += 4;
	}
	for (; *p; p++) {
		int rc;

		if (*p == '\\' && p[1]) {
			rc = in_class ? 1 : put_class(o, p[1]);
			if (rc < 0)
				return -1;
			if (rc == 0) {
				p++;
				continue;
			}
			if (buf_putc(o, *p) < 0 || buf_putc(o, p[1]) < 0)
				return -1;
			p++;
			continue;
		}
		if (!in_class && !strncmp(p, "(?:", 3)) {
			if (buf_putc(o, '(') < 0)
				return -1;
			p += 2;
			continue;
		}
		if (*p == '[' && !in_class)
			in_class = true;
		else if (*p == ']' && in_class)
			in_class = false;
		if (buf_putc(o, *p) < 0)
			return -1;
	}
	return 0;
}

int sops_regcomp(regex_t *re, const char *pattern)
{
	struct buf t = BUF_INIT;
	int icase = 0, rc;

	if (translate(pattern, &t, &icase) < 0 || buf_puts(&t, "") < 0) {
		buf_free(&t);
		return -1;
	}
	rc = regcomp(re, t.data, REG_EXTENDED | REG_NOSUB |
		     (icase ? REG_ICASE : 0));
	buf_free(&t);
	if (rc != 0)
		return err_set(EXIT_USAGE, "invalid regular expression '%s'",
			       pattern);
	return 0;
}

int sops_rule_set(struct sops_rule *r, enum sops_rule_kind k,
		  const char *value)
{
	sops_rule_free(r);
	r->kind = k;
	if (k == SOPS_RULE_NONE)
		return 0;
	r->value = strdup(value ? value : "");
	if (!r->value)
		return err_set(EXIT_FAILED, "out of memory");
	if (k == SOPS_RULE_UNENCRYPTED_SUFFIX || k == SOPS_RULE_ENCRYPTED_SUFFIX)
		return 0;
	if (sops_regcomp(&r->re, r->value) < 0)
		return -1;
	r->compiled = true;
	return 0;
}

void sops_rule_free(struct sops_rule *r)
{
	if (r->compiled)
		regfree(&r->re);
	free(r->value);
	memset(r, 0, sizeof(*r));
}

static int grow(void **arr, size_t **lens, size_t *cap, size_t n,
		size_t elem)
{
	size_t nc;
	void *a;
	size_t *l;

	if (n < *cap)
		return 0;
	nc = *cap ? *cap * 2 : 16;
	a = realloc(*arr, nc * elem);
	if (!a)
		return err_set(EXIT_FAILED, "out of memory");
	*arr = a;
	l = realloc(*lens, nc * sizeof(size_t));
	if (!l)
		return err_set(EXIT_FAILED, "out of memory");
	*lens = l;
	*cap = nc;
	return 0;
}

int sops_path_push(struct sops_path *p, const char *key, size_t len)
{
	void *arr = (void *)p->keys;

	if (grow(&arr, &p->key_lens, &p->cap, p->depth, sizeof(char *)) < 0)
		return -1;
	p->keys = arr;
	p->keys[p->depth] = key;
	p->key_lens[p->depth++] = len;
	return 0;
}

void sops_path_pop(struct sops_path *p)
{
	if (p->depth)
		p->depth--;
}

int sops_path_push_comment(struct sops_path *p, const char *t, size_t len)
{
	void *arr = (void *)p->comments;

	if (grow(&arr, &p->comment_lens, &p->ccap, p->ncomments,
		 sizeof(char *)) < 0)
		return -1;
	p->comments = arr;
	p->comments[p->ncomments] = t;
	p->comment_lens[p->ncomments++] = len;
	return 0;
}

void sops_path_free(struct sops_path *p)
{
	free(p->keys);
	free(p->key_lens);
	free(p->comments);
	free(p->comment_lens);
	memset(p, 0, sizeof(*p));
}

int sops_path_aad(const struct sops_path *p, char **aad, size_t *len)
{
	size_t i, n = 1, o = 0;
	char *s;

	for (i = 0; i < p->depth; i++)
		n += p->key_lens[i] + 1;
	s = malloc(n + 1);
	if (!s)
		return err_set(EXIT_FAILED, "out of memory");
	for (i = 0; i < p->depth; i++) {
		memcpy(s + o, p->keys[i], p->key_lens[i]);
		o += p->key_lens[i];
		s[o++] = ':';
	}
	if (p->depth == 0)
		s[o++] = ':';
	s[o] = '\0';
	*aad = s;
	*len = o;
	return 0;
}

static bool has_suffix(const char *s, size_t n, const char *suf)
{
	size_t sl = strlen(suf);

	return n >= sl && !memcmp(s + n - sl, suf, sl);
}

/* regexec needs a C string: keys may hold NULs in theory, so copy. */
static bool rx_match(const regex_t *re, const char *s, size_t n)
{
	char small[256], *t = n < sizeof(small) ? small : malloc(n + 1);
	bool m;

	if (!t)
		return false;
	memcpy(t, s, n);
	t[n] = '\0';
	m = regexec(re, t, 0, NULL, 0) == 0;
	if (t != small)
		free(t);
	return m;
}

static bool any_key(const struct sops_rule *r, const struct sops_path *p)
{
	size_t i;

	for (i = 0; i < p->depth; i++) {
		bool m = r->compiled ? rx_match(&r->re, p->keys[i], p->key_lens[i])
				     : has_suffix(p->keys[i], p->key_lens[i],
						  r->value);
		if (m)
			return true;
	}
	return false;
}

static bool any_comment(const struct sops_rule *r, const struct sops_path *p,
			size_t skip_last)
{
	size_t i, n = p->ncomments - (p->ncomments ? skip_last : 0);

	for (i = 0; i < n; i++)
		if (rx_match(&r->re, p->comments[i], p->comment_lens[i]))
			return true;
	return false;
}

static char default_suffix[] = "_unencrypted";
static const struct sops_rule default_rule = {
	SOPS_RULE_UNENCRYPTED_SUFFIX, default_suffix, { 0 }, false
};

bool sops_should_encrypt(const struct sops_rule *r, const struct sops_path *p,
			 bool is_comment)
{
	switch (r->kind) {
	case SOPS_RULE_NONE:
		return !any_key(&default_rule, p);
	case SOPS_RULE_UNENCRYPTED_SUFFIX:
	case SOPS_RULE_UNENCRYPTED_REGEX:
		return !any_key(r, p);
	case SOPS_RULE_ENCRYPTED_SUFFIX:
	case SOPS_RULE_ENCRYPTED_REGEX:
		return any_key(r, p);
	case SOPS_RULE_UNENCRYPTED_COMMENT_REGEX:
		return !any_comment(r, p, 0);
	case SOPS_RULE_ENCRYPTED_COMMENT_REGEX:
		return any_comment(r, p, is_comment ? 1 : 0);
	default:
		return true;
	}
}
