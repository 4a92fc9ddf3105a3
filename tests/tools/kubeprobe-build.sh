#!/usr/bin/env bash
# Builds the common/kube test driver (tests/tools/kubeprobe.c) with the
# project's flags from the common/kube and common/util sources, and prints
# its path.  Under `make asan` (BIN_DIR names the sanitizer build) it is
# built with ASan and UBSan into build-asan/tools/.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
pkgs="yaml-0.1 libcurl libcjson openssl libbsd"
flags=(-O2 -g)
out=$root/build/tools/kubeprobe
if [[ ${BIN_DIR:-} == *asan* ]]; then
	flags=(-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer
	       -fno-sanitize-recover=all)
	out=$root/build-asan/tools/kubeprobe
fi
srcs=("$root"/tests/tools/kubeprobe.c "$root"/common/kube/*.c "$root"/common/util/*.c)
newest=$(ls -t "${srcs[@]}" "$root"/common/kube/*.h "$root"/common/util/*.h | head -1)
if [[ ! -x $out || $newest -nt $out ]]; then
	mkdir -p "$(dirname "$out")"
	# shellcheck disable=SC2046
	${CC:-cc} -std=c11 "${flags[@]}" -Wall -Wextra -Werror -Wshadow -Wformat=2 \
		-Wstrict-prototypes -Wmissing-prototypes -Wno-missing-field-initializers \
		-D_GNU_SOURCE -I"$root/common" $(pkg-config --cflags $pkgs) \
		-o "$out.$$.tmp" "${srcs[@]}" $(pkg-config --libs $pkgs) -lpthread
	mv -f "$out.$$.tmp" "$out"
fi
echo "$out"
