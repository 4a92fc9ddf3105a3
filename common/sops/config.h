/*
 * config.h - .sops.yaml, found and applied as sops does.
 *
 * Discovery: an explicit path (--config), else SOPS_CONFIG, else .sops.yaml
 * in the working directory and then its parents (not the file's
 * directory).  creation_rules are tried in order, first match wins;
 * path_regex is an unanchored search on the file's absolute path with the
 * config's directory and "/" removed when it is a prefix.  A rule gives
 * master keys (age, azure_keyvault, pgp, kms, gcp_kms,
 * hc_vault_transit_uri as a comma-separated string or list, or key_groups
 * with shamir_threshold), at most one selector, and mac_only_encrypted.
 * stores.yaml.indent and stores.json.indent set the output indentation.
 */
#ifndef COMMON_SOPS_CONFIG_H
#define COMMON_SOPS_CONFIG_H

#include <stdbool.h>

#include "sops/metadata.h"
#include "sops/rules.h"
#include "sops/tree.h"

struct sops_config {
	char *path;			/* NULL when no config was found */
	char *dir;
	struct sops_node *root;		/* the parsed file */
	int yaml_indent, json_indent;	/* 0 when not set */
};

struct sops_creation_rule {
	struct sops_metadata keys;	/* groups + shamir_threshold */
	struct sops_rule rule;		/* SOPS_RULE_NONE when not set */
	bool mac_only_encrypted;
};

/* Finds and parses the config.  No config is not an error (c->path NULL);
 * an explicit path that cannot be read is (exit 2). */
int sops_config_load(const char *explicit_path, struct sops_config *c);
void sops_config_free(struct sops_config *c);

/* The first creation rule matching file (a path as given on the command
 * line; "-" or NULL: stdin, matched as an empty path).  Returns 1 when a
 * rule matched, 0 when the config has no creation_rules, -1 with err when
 * rules exist but none matches ("no matching creation rules found") or a
 * rule is invalid. */
int sops_config_match(const struct sops_config *c, const char *file,
		      struct sops_creation_rule *out);
void sops_creation_rule_free(struct sops_creation_rule *r);

/* Adds master keys given as text to group g: type "age" (recipients),
 * "azure_kv" (https://VAULT/keys/NAME[/VERSION] URLs), "pgp", "kms",
 * "gcp_kms", "hc_vault" - comma separated, whitespace trimmed. */
int sops_keys_add_text(struct sops_key_group *g, const char *type,
		       const char *list);

/* Splits a Key Vault key URL into vault_url, name, version (may be ""). */
int sops_azure_kv_url_parse(const char *url, char **vault_url, char **name,
			    char **version);

#endif
