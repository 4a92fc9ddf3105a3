# test_install.sh - `make install` lays out binaries, completion helpers,
# man pages and completion scripts where users and kubectl look for them.
source "$TOP/tests/integration/lib.sh"
dest=$TMP/root
run make -C "$TOP" --no-print-directory install DESTDIR="$dest" PREFIX=/usr
expect_rc 0
for p in fluxwi sopsenc sopsverify; do
    [[ -x $dest/usr/bin/kubectl-$p ]] || fail "kubectl-$p not installed"
    expect_eq "$(readlink "$dest/usr/bin/kubectl_complete-$p")" "kubectl-$p" "completion link"
    [[ -s $dest/usr/share/man/man1/kubectl-$p.1 ]] || fail "man page kubectl-$p.1"
    [[ -s $dest/usr/share/bash-completion/completions/kubectl-$p ]] || fail "bash completion"
    [[ -s $dest/usr/share/zsh/site-functions/_kubectl-$p ]] || fail "zsh completion"
    [[ -s $dest/usr/share/fish/vendor_completions.d/kubectl-$p.fish ]] || fail "fish completion"
done
[[ -s $dest/usr/share/man/man1/kubectl-sopsenc-decrypt.1 ]] || fail "subcommand man page"
[[ -s $dest/usr/share/man/man1/kubectl-sopsverify-secret.1 ]] || fail "subcommand man page"

step "the installed tree works: kubectl finds the plugins and completes them"
run env PATH="$dest/usr/bin:/usr/bin:/bin" kubectl plugin list --name-only
expect_rc 0
expect_out "kubectl-fluxwi"; expect_out "kubectl-sopsenc"; expect_out "kubectl-sopsverify"
run env PATH="$dest/usr/bin:/usr/bin:/bin" kubectl __complete sopsverify secret --show
expect_out "--show-values"
run env MANPATH="$dest/usr/share/man" man -w kubectl-fluxwi-patch
expect_rc 0

step "uninstall removes it all"
run make -C "$TOP" --no-print-directory uninstall DESTDIR="$dest" PREFIX=/usr
expect_rc 0
left=$(find "$dest" -type f -o -type l)
expect_eq "$left" "" "files left after uninstall"
