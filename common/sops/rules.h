/*
 * rules.h - which values sops encrypts: one of six selectors
 * (unencrypted_suffix, encrypted_suffix, unencrypted_regex, encrypted_regex,
 * unencrypted_comment_regex, encrypted_comment_regex).
 *
 * Regexes are Go RE2 in sops; here they are POSIX extended regexes (regcomp
 * REG_EXTENDED) after a translation of the common RE2-only spellings:
 * \d \w \s \D \W \S, (?: groups and a leading (?i) flag.  Backreferences do
 * not exist in RE2 anyway; lookaround and named groups are not supported.
 */
#ifndef COMMON_SOPS_RULES_H
#define COMMON_SOPS_RULES_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>

enum sops_rule_kind {
	SOPS_RULE_NONE = 0,	/* nothing chosen: default applies */
	SOPS_RULE_UNENCRYPTED_SUFFIX,
	SOPS_RULE_ENCRYPTED_SUFFIX,
	SOPS_RULE_UNENCRYPTED_REGEX,
	SOPS_RULE_ENCRYPTED_REGEX,
	SOPS_RULE_UNENCRYPTED_COMMENT_REGEX,
	SOPS_RULE_ENCRYPTED_COMMENT_REGEX,
	SOPS_RULE_COUNT
};

/* Metadata / config field name of a rule kind ("encrypted_regex"). */
const char *sops_rule_name(enum sops_rule_kind k);
/* Kind from a field name, or SOPS_RULE_NONE. */
enum sops_rule_kind sops_rule_from_name(const char *name);

struct sops_rule {
	enum sops_rule_kind kind;
	char *value;		/* suffix or regex text (owned) */
	regex_t re;
	bool compiled;
};

/* Sets and compiles a rule (value copied).  -1 with err on a bad regex. */
int sops_rule_set(struct sops_rule *r, enum sops_rule_kind k,
		  const char *value);
void sops_rule_free(struct sops_rule *r);
/* Compiles an RE2-style regex (see above).  Returns 0 or -1 with err. */
int sops_regcomp(regex_t *re, const char *pattern);

/* A key path and the active comments while walking a tree. */
struct sops_path {
	const char **keys;
	size_t *key_lens;
	size_t depth, cap;
	const char **comments;	/* active comments of all levels */
	size_t *comment_lens;
	size_t ncomments, ccap;
};

int sops_path_push(struct sops_path *p, const char *key, size_t len);
void sops_path_pop(struct sops_path *p);
int sops_path_push_comment(struct sops_path *p, const char *t, size_t len);
void sops_path_free(struct sops_path *p);

/* The additional data for a value at p: "k1:k2:...:" (":" at top). */
int sops_path_aad(const struct sops_path *p, char **aad, size_t *len);

/*
 * Whether the value at p is encrypted.  For a comment, is_comment is true
 * and self is its text (it is already in the active list for the
 * unencrypted_comment_regex test and excluded for encrypted_comment_regex).
 */
bool sops_should_encrypt(const struct sops_rule *r, const struct sops_path *p,
			 bool is_comment);

#endif
