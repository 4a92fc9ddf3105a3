/*
 * kubectl sopsenc - encrypt (and decrypt) Kubernetes manifests in the SOPS
 * format against Azure Key Vault keys and age recipients.
 *
 * This file is the command table; each subcommand lives in cmd_NAME.c.
 */
#include "sopsenc.h"

#define A(member) CLI_OFF(struct sopsenc_args, member)

static const char *const types[] = { "yaml", "json", "dotenv", "binary",
				     NULL };
static const char *const wraps[] = { "auto", "local", "remote", NULL };

#define OPT_AZURE_KV \
	{ 0, "azure-kv", CLI_LIST, "URL[,URL]", \
	  "Azure Key Vault key URLs (https://VAULT/keys/NAME[/VERSION]); " \
	  "env SOPS_AZURE_KEYVAULT_URLS.", NULL, NULL, CLI_COMP_NONE, \
	  A(azure_kv), 0 }
#define OPT_AGE \
	{ 0, "age", CLI_LIST, "RECIPIENT[,...]", \
	  "age recipients (age1...); env SOPS_AGE_RECIPIENTS.", NULL, NULL, \
	  CLI_COMP_NONE, A(age), 0 }
#define OPT_CONFIG \
	{ 0, "config", CLI_STRING, "PATH", \
	  "The .sops.yaml to use (env SOPS_CONFIG); by default found in the " \
	  "working directory or its parents.", NULL, NULL, CLI_COMP_FILE, \
	  A(config), 0 }
#define OPT_REGEX(name, member, what) \
	{ 0, name, CLI_STRING, "REGEX", what, NULL, NULL, CLI_COMP_NONE, \
	  A(member), 0 }
#define OPT_SUFFIX(name, member, what) \
	{ 0, name, CLI_STRING, "SUFFIX", what, NULL, NULL, CLI_COMP_NONE, \
	  A(member), 0 }
#define OPT_TYPES \
	{ 0, "input-type", CLI_STRING, "TYPE", \
	  "Input format; by default from the file name.", NULL, types, \
	  CLI_COMP_CHOICES, A(input_type), 0 }, \
	{ 0, "output-type", CLI_STRING, "TYPE", \
	  "Output format; by default the input format.", NULL, types, \
	  CLI_COMP_CHOICES, A(output_type), 0 }
#define OPT_IN_PLACE \
	{ 'i', "in-place", CLI_BOOL, NULL, \
	  "Write the result over each input file (atomically).", NULL, NULL, \
	  CLI_COMP_NONE, A(in_place), 0 }
#define OPT_OUTPUT_PATH \
	{ 0, "output", CLI_STRING, "PATH", \
	  "Write the result to this file instead of standard output.", NULL, \
	  NULL, CLI_COMP_FILE, A(output_path), 0 }
#define OPT_KEY_WRAP \
	{ 0, "key-wrap", CLI_STRING, "MODE", \
	  "How the data key is wrapped for Key Vault: locally with the key's " \
	  "public part, remotely by Key Vault, or auto.", "auto", wraps, \
	  CLI_COMP_CHOICES, A(key_wrap), 0 }
#define OPT_IGNORE_MAC \
	{ 0, "ignore-mac", CLI_BOOL, NULL, \
	  "Decrypt even when the MAC does not match (a tampered file).", \
	  NULL, NULL, CLI_COMP_NONE, A(ignore_mac), 0 }

#define SELECTORS \
	OPT_REGEX("encrypted-regex", encrypted_regex, \
		  "Encrypt only the values whose key matches this regex."), \
	OPT_REGEX("unencrypted-regex", unencrypted_regex, \
		  "Leave the values whose key matches this regex in plaintext."), \
	OPT_SUFFIX("encrypted-suffix", encrypted_suffix, \
		   "Encrypt only the values whose key ends with this suffix."), \
	OPT_SUFFIX("unencrypted-suffix", unencrypted_suffix, \
		   "Leave the values whose key ends with this suffix in " \
		   "plaintext."), \
	OPT_REGEX("encrypted-comment-regex", encrypted_comment_regex, \
		  "Encrypt the values after a comment matching this regex."), \
	OPT_REGEX("unencrypted-comment-regex", unencrypted_comment_regex, \
		  "Leave the values after a comment matching this regex in " \
		  "plaintext."), \
	{ 0, "mac-only-encrypted", CLI_BOOL, NULL, \
	  "Compute the MAC over the encrypted values only.", NULL, NULL, \
	  CLI_COMP_NONE, A(mac_only_encrypted), 0 }

static const struct cli_opt encrypt_opts[] = {
	OPT_AZURE_KV, OPT_AGE, OPT_CONFIG, SELECTORS, OPT_TYPES, OPT_IN_PLACE,
	OPT_OUTPUT_PATH,
	{ 'r', "recursive", CLI_BOOL, NULL,
	  "Walk directories: encrypt every Kubernetes Secret manifest not yet "
	  "encrypted.", NULL, NULL, CLI_COMP_NONE, A(recursive), 0 },
	OPT_KEY_WRAP, CLI_OPT_END
};

static const struct cli_opt decrypt_opts[] = {
	OPT_CONFIG, OPT_TYPES, OPT_IN_PLACE, OPT_OUTPUT_PATH,
	{ 0, "extract", CLI_STRING, "PATH",
	  "Print only this value, in sops' path syntax: '[\"data\"][\"password\"]'.",
	  NULL, NULL, CLI_COMP_NONE, A(extract), 0 },
	OPT_IGNORE_MAC, CLI_OPT_END
};

static const struct cli_opt rotate_opts[] = {
	OPT_CONFIG, OPT_TYPES, OPT_IN_PLACE, OPT_OUTPUT_PATH, OPT_KEY_WRAP,
	OPT_IGNORE_MAC, CLI_OPT_END
};

static const struct cli_opt updatekeys_opts[] = {
	OPT_CONFIG, OPT_TYPES, OPT_IN_PLACE, OPT_OUTPUT_PATH, OPT_KEY_WRAP,
	OPT_IGNORE_MAC, CLI_OPT_END
};

static const struct cli_cmd commands[] = {
	{ "encrypt", "Encrypt manifests in the SOPS format (the default)",
	  "[flags] FILE...",
	  "Encrypts each FILE (- for standard input) in the SOPS format, for "
	  "the Azure Key Vault\nkeys and age recipients given by flags, the "
	  "environment or .sops.yaml. Without a\nselector, Kubernetes Secrets "
	  "encrypt only data and stringData (as Flux needs) and\nother "
	  "documents every value except keys ending _unencrypted. An already "
	  "encrypted\nfile is refused (exit 203).",
	  "# Encrypt a Secret in place with a Key Vault key, as the seed does\n"
	  "kubectl sopsenc -i --encrypted-regex '^(data|stringData)$' \\\n"
	  "    --azure-kv https://myvault.vault.azure.net/keys/sops secret.yaml\n"
	  "# Encrypt every plaintext Secret under a directory\n"
	  "kubectl sopsenc -r -i --azure-kv https://myvault.vault.azure.net/keys/sops gitops/",
	  encrypt_opts, sizeof(struct sopsenc_args), NULL, CLI_COMP_YAML,
	  sopsenc_encrypt, 0 },
	{ "decrypt", "Decrypt SOPS files", "[flags] FILE...",
	  "Decrypts each FILE, checking its MAC (a tampered file exits 51). "
	  "Output files are\ncreated mode 0600.",
	  "# Print the decrypted manifest\n"
	  "kubectl sopsenc decrypt secret.yaml\n"
	  "# Print one value\n"
	  "kubectl sopsenc decrypt --extract '[\"stringData\"][\"password\"]' "
	  "secret.yaml",
	  decrypt_opts, sizeof(struct sopsenc_args), NULL, CLI_COMP_YAML,
	  sopsenc_decrypt, 0 },
	{ "check", "Fail when a Secret manifest holds plaintext", "[PATH...]",
	  "Scans PATHs (default .) for Kubernetes Secret manifests that are "
	  "not encrypted, or\nthat leave a value in plaintext, and lists each "
	  "as FILE:LINE:KEY. Exits 1 when\nit finds one. Needs no key: fit for "
	  "a pre-commit hook.",
	  "# Refuse to commit plaintext Secrets\nkubectl sopsenc check gitops/",
	  NULL, sizeof(struct sopsenc_args), NULL, CLI_COMP_FILE,
	  sopsenc_check, 0 },
	{ "rotate", "Re-encrypt with a new data key, same recipients",
	  "[flags] FILE...",
	  "Decrypts each FILE and encrypts it again with a new data key for "
	  "the same master\nkeys. Comments and order are kept.",
	  "# Rotate the data key in place\nkubectl sopsenc rotate -i secret.yaml",
	  rotate_opts, sizeof(struct sopsenc_args), NULL, CLI_COMP_YAML,
	  sopsenc_rotate, 0 },
	{ "updatekeys", "Set the recipients from .sops.yaml, same data key",
	  "[flags] FILE...",
	  "Rewraps each FILE's data key for the master keys its .sops.yaml "
	  "creation rule names,\nand reports the keys added and removed. The "
	  "values are not re-encrypted.",
	  "# Add the recipients newly listed in .sops.yaml\n"
	  "kubectl sopsenc updatekeys secret.yaml",
	  updatekeys_opts, sizeof(struct sopsenc_args), NULL, CLI_COMP_YAML,
	  sopsenc_updatekeys, 0 },
	CLI_CMD_END
};

static const struct cli_prog prog = {
	"sopsenc",
	"Encrypt Kubernetes manifests with SOPS for Azure Key Vault and age",
	"kubectl sopsenc encrypts Kubernetes manifests in the SOPS format that "
	"sops and Flux's\nkustomize-controller read, against Azure Key Vault "
	"keys and age recipients, and\ndecrypts them.",
	"# Encrypt a Secret for a Key Vault key\n"
	"kubectl sopsenc -i --azure-kv https://myvault.vault.azure.net/keys/sops "
	"secret.yaml\n"
	"# Check a repository for plaintext Secrets\n"
	"kubectl sopsenc check .",
	commands, "encrypt", CLI_G_TIMEOUT | CLI_G_AZURE, NULL
};

int main(int argc, char **argv)
{
	return cli_main(&prog, argc, argv);
}
