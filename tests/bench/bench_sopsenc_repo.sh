# bench_sopsenc_repo.sh - `kubectl sopsenc -r -i` over a repository of 1000
# Secret manifests against the lab's Key Vault (auto wrapping): wall time
# per run and Key Vault requests per run (target: one, the public key).
source "$TOP/tests/bench/lib.sh"
n=1000; [[ ${BENCH_SMOKE:-} == 1 ]] && n=20
dir=$(mktemp -d)
trap '"$TOP/tests/lab/stop" "$dir/lab" >/dev/null 2>&1; rm -rf "$dir"' EXIT
mkdir -p "$dir/lab"
"$TOP/tests/lab/start" "$dir/lab" >"$dir/lab-start.log" 2>&1 ||
    { cat "$dir/lab-start.log" >&2; echo "bench: the lab did not start" >&2; exit 1; }
# shellcheck disable=SC1091
source "$dir/lab/env"
export PATH="$TOP/bin:$PATH"
unset AZURE_CLIENT_CERTIFICATE_PATH AZURE_FEDERATED_TOKEN_FILE IDENTITY_ENDPOINT SOPS_CONFIG \
    SOPS_AGE_RECIPIENTS SOPS_AZURE_KEYVAULT_URLS
export AZURE_TENANT_ID=$LAB_TENANT_ID AZURE_CLIENT_ID=$LAB_SP_CLIENT_ID
export AZURE_CLIENT_SECRET=$LAB_SP_CLIENT_SECRET

repo=$dir/pristine
for ((i = 0; i < n; i++)); do
    d=$repo/apps/team$((i % 20)); [[ -d $d ]] || mkdir -p "$d"
    printf 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: s%d\n  namespace: apps\nstringData:\n  password: pw-%d\n  user: admin\n' \
        "$i" "$i" >"$d/s$i.yaml"
done

kv_requests() {
    "$TOP/tests/lab/labctl" "$dir/lab" counters |
        node -e 'let s = ""; process.stdin.on("data", (d) => (s += d));
                 process.stdin.on("end", () => console.log(JSON.parse(s)["keyvault.requests"] || 0));'
}

times=() reqs=0
for ((r = 0; r < RUNS; r++)); do
    rm -rf "$dir/run" && cp -a "$repo" "$dir/run"
    export XDG_CACHE_HOME=$dir/cache-$r     # a cold public-key cache every run
    "$TOP/tests/lab/labctl" "$dir/lab" counters --reset >/dev/null
    t0=$(date +%s%N)
    out=$(kubectl-sopsenc -r -i --azure-kv "$LAB_KEY_URL" "$dir/run") ||
        { echo "bench: sopsenc -r failed" >&2; exit 1; }
    t1=$(date +%s%N)
    [[ $out == "encrypted $n files,"* ]] || { echo "bench: unexpected: $out" >&2; exit 1; }
    times+=($(((t1 - t0) / 1000000)))
    q=$(kv_requests); ((q > reqs)) && reqs=$q
done
ms=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
row "sopsenc -r: $n Secret manifests, Key Vault" "$ms" ms "median of $RUNS"
row "sopsenc -r: Key Vault requests per run (target 1)" "$reqs" requests "most in one run"
