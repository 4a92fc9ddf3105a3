#!/usr/bin/env bash
# demo.sh - the seed's walkthrough, end to end, with the plugins, on the lab.
#
# The seed set up Flux on AKS to decrypt a SOPS-encrypted Secret with an Azure
# Key Vault key through workload identity, by hand.  Here every step is a
# plugin command run against the local lab (tests/lab: an API server with Flux
# and the workload identity webhook, Entra ID, Key Vault, the az CLI), printed
# with its output.  The lab is stopped on exit, whatever happens.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
export PATH="$top/bin:$PATH"
work=$(mktemp -d "${TMPDIR:-/tmp}/fluxwi-demo.XXXXXX")
lab="$work/lab"
missing=() failed=() done_steps=0

cleanup() {
    [[ -f $lab/pid ]] && "$top/tests/lab/stop" "$lab" >/dev/null 2>&1
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [[ -t 1 && -z ${NO_COLOR:-} ]]; then B=$'\033[1m' G=$'\033[32m' R=$'\033[31m' Y=$'\033[33m' N=$'\033[0m'
else B='' G='' R='' Y='' N=''; fi

say() { printf '\n%s== %s%s\n' "$B" "$*" "$N"; }

# step EXPECT DESCRIPTION -- CMD...   (EXPECT: ok, or fail when the step is
# meant to show a failure, as the first check does)
step() {
    local expect=$1 what=$2 out rc; shift 3
    say "$what"
    printf '%s$ %s%s\n' "$B" "$*" "$N"
    out=$("$@" 2>&1); rc=$?
    printf '%s\n' "$out"
    if [[ $out == *"not implemented yet"* ]]; then
        printf '%s-> not implemented yet%s\n' "$Y" "$N"
        missing+=("$what")
        return 0
    fi
    if [[ $expect == ok && $rc -ne 0 ]] || [[ $expect == fail && $rc -eq 0 ]]; then
        printf '%s-> unexpected exit %d%s\n' "$R" "$rc" "$N"
        failed+=("$what")
        return 0
    fi
    done_steps=$((done_steps + 1))
}

say "Starting the lab (AKS, Entra ID, Key Vault and Flux stand-ins)"
mkdir -p "$lab"
if ! "$top/tests/lab/start" "$lab"; then
    echo "the lab did not start; see $lab/lab.log" >&2
    cat "$lab/lab.log" >&2 2>/dev/null
    exit 1
fi
# shellcheck disable=SC1091
source "$lab/env"
export PATH="$top/bin:$PATH"

repo="$work/repo"
cp -r "$top/tests/lab/seed" "$repo"
cd "$repo"
secret=gitops/aks/apps/secret.yaml
bootstrap=gitops/aks/flux-system

# The lab's Git repository is a directory: pushing is copying the working
# copy there; `labctl reconcile` stands for `flux reconcile`.
push_and_reconcile() {
    echo "(git push, then flux reconcile kustomization flux-system --with-source and apps)"
    cp -r "$repo/." "$LAB_REPO_DIR/" &&
        "$top/tests/lab/labctl" "$lab" reconcile flux-system >/dev/null &&
        "$top/tests/lab/labctl" "$lab" reconcile apps >/dev/null &&
        kubectl get kustomizations -n flux-system
}

step fail "1. Nothing is configured yet: check says what is missing" -- \
    kubectl fluxwi check
step ok "2. The federated credential the identity needs" -- \
    kubectl fluxwi issuer --identity "$LAB_IDENTITY_ID"
step ok "3. Patch the live controller with the identity" -- \
    kubectl fluxwi patch --client-id "$LAB_CLIENT_ID" --tenant-id "$LAB_TENANT_ID"
step ok "4. Write the same patches into the GitOps repository" -- \
    kubectl fluxwi generate --client-id "$LAB_CLIENT_ID" --tenant-id "$LAB_TENANT_ID" --dir "$bootstrap"
step ok "5. Encrypt the sample Secret with the Key Vault key, as the seed's sops command did" -- \
    kubectl sopsenc -i --encrypted-regex '^(data|stringData)$' --azure-kv "$LAB_KEY_URL" "$secret"
step ok "6. Commit and push, and let Flux reconcile" -- \
    push_and_reconcile
step ok "7. Every link of the chain, proven with a real token exchange and Key Vault decrypt" -- \
    kubectl fluxwi check --exchange --key "$LAB_KEY_URL"
step ok "8. What git holds encrypted is what the cluster holds" -- \
    kubectl sopsverify gitops/aks/apps --decrypt
step ok "9. The seed's last step: read the Secret back" -- \
    kubectl sopsverify secret sample-secret -n sops-workload-identity --show-values

elapsed=$SECONDS
say "Summary"
total=$((done_steps + ${#missing[@]} + ${#failed[@]}))
((${#missing[@]})) && printf '%snot implemented yet:%s\n' "$Y" "$N" && printf '  %s\n' "${missing[@]}"
((${#failed[@]})) && printf '%sfailed:%s\n' "$R" "$N" && printf '  %s\n' "${failed[@]}"
if ((${#failed[@]})); then
    printf '%sdemo: %d of %d steps failed%s\n' "$R" "${#failed[@]}" "$total" "$N"
    exit 1
fi
if ((${#missing[@]})); then
    printf '%sdemo: %d of %d steps ran; %d still missing%s\n' "$Y" "$done_steps" "$total" "${#missing[@]}" "$N"
else
    printf '%sdemo: all %d steps passed in %ds: Flux decrypted the Secret with the managed identity, and git and the cluster agree%s\n' "$G" "$total" "$elapsed" "$N"
fi
