/*
 * kubectl fluxwi - wire Flux's kustomize-controller to an Azure managed
 * identity (workload identity), live and in git, and prove the chain works.
 *
 * This file is the command table; each subcommand lives in cmd_NAME.c.
 */
#include "fluxwi.h"

#include "cli/kube_names.h"

#define A(member) CLI_OFF(struct fluxwi_args, member)

#define OPT_CLIENT_ID(flags) \
	{ 0, "client-id", CLI_STRING, "ID", \
	  "Client ID (a GUID) of the user-assigned managed identity.", NULL, \
	  NULL, CLI_COMP_NONE, A(client_id), flags }
#define OPT_TENANT_ID \
	{ 0, "tenant-id", CLI_STRING, "ID", \
	  "Microsoft Entra tenant ID (a GUID) of the identity.", NULL, NULL, \
	  CLI_COMP_NONE, A(tenant_id), 0 }
#define OPT_IDENTITY \
	{ 0, "identity", CLI_STRING, "RESOURCE_ID", \
	  "Resource ID of the managed identity; its client and tenant IDs " \
	  "are looked up through Azure Resource Manager.", NULL, NULL, \
	  CLI_COMP_NONE, A(identity), 0 }
#define OPT_FLUX_NS \
	{ 0, "flux-namespace", CLI_STRING, "NS", \
	  "Namespace Flux is installed in.", "flux-system", NULL, \
	  CLI_COMP_NAMESPACE, A(flux_namespace), 0 }
#define OPT_CONTROLLER \
	{ 0, "controller", CLI_STRING, "NAME", \
	  "Name of the controller's ServiceAccount and Deployment.", \
	  "kustomize-controller", NULL, CLI_COMP_NONE, A(controller), 0 }
#define OPT_DRY_RUN(what) \
	{ 0, "dry-run", CLI_BOOL, NULL, what, NULL, NULL, CLI_COMP_NONE, \
	  A(dry_run), 0 }
#define OPT_NO_RESTART \
	{ 0, "no-restart", CLI_BOOL, NULL, \
	  "Do not restart the controller after changing it.", NULL, NULL, \
	  CLI_COMP_NONE, A(no_restart), 0 }
#define OPT_NO_WAIT \
	{ 0, "no-wait", CLI_BOOL, NULL, \
	  "Do not wait for the controller's rollout to finish.", NULL, NULL, \
	  CLI_COMP_NONE, A(no_wait), 0 }

static const char *const table_json[] = { "table", "json", NULL };
static const char *const yaml_json[] = { "yaml", "json", NULL };

static const struct cli_opt check_opts[] = {
	OPT_CLIENT_ID(0), OPT_TENANT_ID, OPT_IDENTITY, OPT_FLUX_NS,
	OPT_CONTROLLER,
	{ 0, "exchange", CLI_BOOL, NULL,
	  "Also exchange a controller token at Microsoft Entra ID, as the "
	  "controller does.", NULL, NULL, CLI_COMP_NONE, A(exchange), 0 },
	{ 0, "key", CLI_STRING, "URL",
	  "Also prove the identity may decrypt with this Key Vault key "
	  "(implies --exchange).", NULL, NULL, CLI_COMP_NONE, A(key), 0 },
	CLI_OPT_END
};

static const struct cli_opt patch_opts[] = {
	OPT_CLIENT_ID(0), OPT_TENANT_ID, OPT_IDENTITY, OPT_FLUX_NS,
	OPT_CONTROLLER,
	OPT_DRY_RUN("Print the patches and write nothing (server dry-run "
		    "where allowed)."),
	OPT_NO_RESTART, OPT_NO_WAIT,
	{ 0, "timeout", CLI_DURATION, "DURATION",
	  "How long to wait for the rollout.", "5m", NULL, CLI_COMP_NONE,
	  A(timeout_ms), 0 },
	CLI_OPT_END
};

static const struct cli_opt unpatch_opts[] = {
	OPT_FLUX_NS, OPT_CONTROLLER,
	OPT_DRY_RUN("Print what would be removed and write nothing."),
	OPT_NO_RESTART, OPT_NO_WAIT,
	{ 0, "timeout", CLI_DURATION, "DURATION",
	  "How long to wait for the rollout.", "5m", NULL, CLI_COMP_NONE,
	  A(timeout_ms), 0 },
	CLI_OPT_END
};

static const struct cli_opt generate_opts[] = {
	OPT_CLIENT_ID(0), OPT_TENANT_ID, OPT_IDENTITY, OPT_CONTROLLER,
	{ 0, "dir", CLI_STRING, "PATH",
	  "The bootstrap directory (holding gotk-components.yaml), or a "
	  "directory to search for it.", NULL, NULL, CLI_COMP_DIR, A(dir), 0 },
	OPT_DRY_RUN("Print a unified diff of the changes and write nothing."),
	CLI_OPT_END
};

static const struct cli_opt issuer_opts[] = {
	OPT_IDENTITY, OPT_FLUX_NS, OPT_CONTROLLER, CLI_OPT_END
};

static const struct cli_cmd commands[] = {
	{ "check", "Check every link of the workload identity chain",
	  "[--client-id ID] [--tenant-id ID] [--exchange] [--key URL] "
	  "[-o table|json]",
	  "Walks the chain that lets kustomize-controller decrypt SOPS files "
	  "with an Azure\nmanaged identity and reports each link PASS, WARN or "
	  "FAIL with a one-line remedy:\nAPI reachable, Flux installed, "
	  "workload identity webhook, OIDC issuer, ServiceAccount\n"
	  "annotations, pod template label, mutated pods, and Kustomizations "
	  "with SOPS decryption.\nWith --exchange it also exchanges a "
	  "controller token at Microsoft Entra ID; with --key\nit proves the "
	  "identity may decrypt with that Key Vault key. Exits 1 on any FAIL.",
	  "# Check the live chain\n"
	  "kubectl fluxwi check\n"
	  "# Prove the federated credential and the Key Vault permission too\n"
	  "kubectl fluxwi check --exchange --key "
	  "https://myvault.vault.azure.net/keys/sops",
	  check_opts, sizeof(struct fluxwi_args), table_json, CLI_COMP_NONE,
	  fluxwi_check, 0 },
	{ "patch", "Patch the live controller for workload identity",
	  "--client-id ID [--tenant-id ID] [--dry-run] [--no-restart] "
	  "[--no-wait] [--timeout 5m] [-o yaml|json]",
	  "Annotates the controller's ServiceAccount with the identity's "
	  "client and tenant IDs,\nlabels its pod template with "
	  "azure.workload.identity/use: \"true\", restarts it when\nneeded, "
	  "waits for the rollout and confirms the new pods carry the injected "
	  "token.\nA second run writes nothing. Flux may revert live-only "
	  "changes: run generate to\nmake them permanent in git.",
	  "# Use the managed identity with this client ID\n"
	  "kubectl fluxwi patch --client-id 00000000-0000-0000-0000-000000000000\n"
	  "# Show the patches without applying them\n"
	  "kubectl fluxwi patch --client-id 00000000-0000-0000-0000-000000000000"
	  " --dry-run",
	  patch_opts, sizeof(struct fluxwi_args), yaml_json, CLI_COMP_NONE,
	  fluxwi_patch, 0 },
	{ "unpatch", "Remove exactly what patch added",
	  "[--dry-run] [--no-restart] [--no-wait]",
	  "Removes the workload identity annotations and labels that patch "
	  "added, and restarts\nthe controller so its pods lose the injected "
	  "identity.",
	  "# Undo patch\nkubectl fluxwi unpatch",
	  unpatch_opts, sizeof(struct fluxwi_args), NULL, CLI_COMP_NONE,
	  fluxwi_unpatch, 0 },
	{ "generate", "Write the same patches into the GitOps repository",
	  "--client-id ID [--tenant-id ID] [--dir PATH] [--dry-run]",
	  "Writes patches/kustomize-controller-service-account.yaml and\n"
	  "patches/kustomize-controller-deployment.yaml in the bootstrap "
	  "directory (the one\nholding gotk-components.yaml) and lists them "
	  "under patches: in its kustomization.yaml,\nleaving everything else "
	  "byte for byte. A second run changes nothing.",
	  "# Write the patches into the bootstrap directory found below .\n"
	  "kubectl fluxwi generate --client-id "
	  "00000000-0000-0000-0000-000000000000\n"
	  "# See the diff first\n"
	  "kubectl fluxwi generate --client-id "
	  "00000000-0000-0000-0000-000000000000 --dir gitops --dry-run",
	  generate_opts, sizeof(struct fluxwi_args), NULL, CLI_COMP_DIR,
	  fluxwi_generate, 0 },
	{ "issuer", "Print the OIDC issuer and the federated credential command",
	  "[-o table|json]",
	  "Prints the cluster's OIDC issuer exactly as Microsoft Entra ID "
	  "compares it, the\nsubject and audience of the controller's token, "
	  "and the ready-to-run\naz identity federated-credential create "
	  "command.",
	  "# Show what the federated credential must contain\n"
	  "kubectl fluxwi issuer",
	  issuer_opts, sizeof(struct fluxwi_args), table_json, CLI_COMP_NONE,
	  fluxwi_issuer, 0 },
	CLI_CMD_END
};

static const struct cli_prog prog = {
	"fluxwi",
	"Wire Flux's kustomize-controller to an Azure managed identity",
	"kubectl fluxwi wires Flux's kustomize-controller to an Azure managed "
	"identity through\nworkload identity, live (patch) and in git "
	"(generate), and proves that every link\nof the chain works (check).",
	"# Check, fix, check again\n"
	"kubectl fluxwi check\n"
	"kubectl fluxwi patch --client-id 00000000-0000-0000-0000-000000000000\n"
	"kubectl fluxwi check --exchange",
	commands, NULL, CLI_G_CLUSTER | CLI_G_TIMEOUT | CLI_G_AZURE, cli_kube_names
};

int main(int argc, char **argv)
{
	return cli_main(&prog, argc, argv);
}
