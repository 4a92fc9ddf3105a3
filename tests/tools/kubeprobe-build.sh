#!/usr/bin/env bash
# Builds build/tools/kubeprobe (the common/kube test driver) with the
# project's flags, from common/kube and common/util sources, and prints
# its path.  Sourced or run by tests/integration/test_kube*.sh.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
out=$root/build/tools/kubeprobe
pkgs="yaml-0.1 libcurl libcjson openssl libbsd"
srcs=("$root"/tests/tools/kubeprobe.c "$root"/common/kube/*.c "$root"/common/util/*.c)
newest=$(ls -t "${srcs[@]}" "$root"/common/kube/*.h "$root"/common/util/*.h | head -1)
if [[ ! -x $out || $newest -nt $out ]]; then
	mkdir -p "$(dirname "$out")"
	# shellcheck disable=SC2046
	${CC:-cc} -std=c11 -O2 -g -Wall -Wextra -Werror -Wshadow -Wformat=2 \
		-Wstrict-prototypes -Wmissing-prototypes -Wno-missing-field-initializers \
		-D_GNU_SOURCE -I"$root/common" $(pkg-config --cflags $pkgs) \
		-o "$out.$$.tmp" "${srcs[@]}" $(pkg-config --libs $pkgs) -lpthread
	mv -f "$out.$$.tmp" "$out"
fi
echo "$out"
