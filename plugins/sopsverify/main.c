/*
 * kubectl sopsverify - read Secrets back from the cluster and prove that
 * what git holds encrypted is what the cluster holds decrypted.
 *
 * This file is the command table; each subcommand lives in cmd_NAME.c.
 */
#include "sopsverify.h"

#include "cli/kube_names.h"

#define A(member) CLI_OFF(struct sopsverify_args, member)

static const char *const table_json[] = { "table", "json", NULL };

static const struct cli_opt verify_opts[] = {
	{ 0, "kustomization", CLI_STRING, "NAME",
	  "Verify what this Flux Kustomization owns: its targetNamespace and "
	  "its inventory.", NULL, NULL, CLI_COMP_KUSTOMIZATION,
	  A(kustomization), 0 },
	{ 0, "flux-namespace", CLI_STRING, "NS",
	  "Namespace of the Kustomization.", "flux-system", NULL,
	  CLI_COMP_NAMESPACE, A(flux_namespace), 0 },
	{ 0, "decrypt", CLI_BOOL, NULL,
	  "Decrypt the manifests locally and compare every value (in constant "
	  "time).", NULL, NULL, CLI_COMP_NONE, A(decrypt), 0 },
	{ 0, "wait", CLI_DURATION, "DURATION",
	  "Poll until every verdict is OK or this time has passed.", NULL,
	  NULL, CLI_COMP_NONE, A(wait_ms), 0 },
	CLI_OPT_END
};

static const struct cli_opt secret_opts[] = {
	{ 0, "show-values", CLI_BOOL, NULL,
	  "Print the decoded values instead of masking them.", NULL, NULL,
	  CLI_COMP_NONE, A(show_values), 0 },
	CLI_OPT_END
};

static const struct cli_cmd commands[] = {
	{ "verify", "Compare encrypted manifests with the live Secrets (the "
	  "default)",
	  "[PATH...] [--kustomization NAME] [--decrypt] [--wait DURATION] "
	  "[-o table|json]",
	  "For every SOPS-encrypted Secret manifest under PATH (default .), "
	  "reads the live\nSecret and gives one verdict: OK, MISSING, "
	  "ENCRYPTED, MISMATCH or ERROR. Secret\nvalues are never printed. "
	  "Exits 0 when every verdict is OK, 1 otherwise.",
	  "# Verify every encrypted Secret under gitops/\n"
	  "kubectl sopsverify gitops/\n"
	  "# Compare the values too, and wait for Flux after a push\n"
	  "kubectl sopsverify gitops/ --decrypt --wait 2m",
	  verify_opts, sizeof(struct sopsverify_args), table_json,
	  CLI_COMP_FILE, sopsverify_verify, 0 },
	{ "secret", "Show a live Secret's keys, sizes and masked values",
	  "NAME [-n NS] [--show-values] [-o table|json]",
	  "Shows the keys of a live Secret with their sizes and masked "
	  "values, and warns when\na value still looks SOPS-encrypted. "
	  "--show-values reveals the decoded values.",
	  "# What did Flux apply?\n"
	  "kubectl sopsverify secret sample-secret -n sops-workload-identity",
	  secret_opts, sizeof(struct sopsverify_args), table_json,
	  CLI_COMP_SECRET, sopsverify_secret, 0 },
	CLI_CMD_END
};

static const struct cli_prog prog = {
	"sopsverify",
	"Prove that the cluster holds what git holds encrypted",
	"kubectl sopsverify reads Secrets back from the cluster and proves "
	"that what git holds\nencrypted with SOPS is what the cluster holds "
	"decrypted.",
	"# Verify the Secrets of a repository\n"
	"kubectl sopsverify .\n"
	"# Look at one live Secret\n"
	"kubectl sopsverify secret sample-secret -n sops-workload-identity",
	commands, "verify", CLI_G_CLUSTER | CLI_G_TIMEOUT | CLI_G_AZURE, cli_kube_names
};

int main(int argc, char **argv)
{
	return cli_main(&prog, argc, argv);
}
