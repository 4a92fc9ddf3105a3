#!/usr/bin/env bash
# deps.sh - install what the build, the tests and the demo need, when missing.
# Debian packages through apt-get (as root; otherwise prints the command),
# then the lab's npm packages from its lockfile: all of them for the tests,
# only the lab's runtime ones with --runtime-only (make demo).
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(gcc make pkg-config libyaml-dev libcurl4-openssl-dev libcjson-dev
          libssl-dev libbsd-dev libcmocka-dev age bash-completion zsh fish
          valgrind clang nodejs npm time jq curl util-linux)
command -v kubectl >/dev/null 2>&1 || packages+=(kubernetes-client)

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
        missing+=("$p")
done
# nodejs/npm may come from outside Debian's packages: accept working commands.
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
    kept=()
    for p in "${missing[@]}"; do
        [[ $p == nodejs || $p == npm ]] || kept+=("$p")
    done
    missing=("${kept[@]}")
fi

if ((${#missing[@]})); then
    if [[ $(id -u) -eq 0 ]]; then
        echo "deps: installing ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    else
        echo "deps: missing Debian packages; run:" >&2
        echo "  sudo apt-get install -y ${missing[*]}" >&2
        exit 1
    fi
fi

# A lab dev dependency (the official SDK the lab's tests use) tells whether
# the full set is there.
lab=tests/lab
if [[ -f $lab/package-lock.json ]]; then
    stale=false
    [[ -f $lab/node_modules/.package-lock.json &&
       ! $lab/package-lock.json -nt $lab/node_modules/.package-lock.json ]] || stale=true
    if [[ ${1:-} == --runtime-only ]]; then
        if $stale; then
            echo "deps: installing the lab's runtime npm packages (npm ci --omit=dev)"
            (cd $lab && npm ci --omit=dev --no-audit --no-fund --loglevel=error >/dev/null)
        fi
    elif $stale || [[ ! -d $lab/node_modules/@azure/identity ]]; then
        echo "deps: installing the lab's npm packages (npm ci)"
        (cd $lab && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
    fi
fi
