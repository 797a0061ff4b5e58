#!/usr/bin/env bats
# one version everywhere; the Debian packages: build, contents, lintian,
# install, use, removal
#
# Packaging: the one version number in ./VERSION and every artefact that
# carries it; the Debian packages (debian/) built from a copy of the tree,
# checked with lintian, installed with dpkg, used, and removed.
#
# The package tests need dpkg-buildpackage and, to install, root (or sudo
# without a password), and skip, saying so, without them. They install into the real /usr for a few
# seconds and remove what they installed; they refuse to start if an
# objpool package or file is there already.

load ../helpers

VERSION_NOW=$(<"$REPO_ROOT/VERSION")
PKG_DIR=${BATS_FILE_TMPDIR:-/tmp}/pkg

# --- the version ------------------------------------------------------------------

@test "VERSION is one version number, and no other file writes it by hand" {
    [[ "$VERSION_NOW" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || fail "VERSION is not X.Y.Z: $VERSION_NOW"
    require_cmd git
    git -C "$REPO_ROOT" rev-parse --git-dir >/dev/null 2>&1 || skip "not a git checkout: cannot list the tracked files"
    local hits
    # the version itself, anywhere but VERSION and debian/changelog (whose
    # format needs it; debian/rules checks it against VERSION)
    hits=$(cd "$REPO_ROOT" && git ls-files -z | xargs -0 grep -lF -- "$VERSION_NOW" |
        grep -vx -e VERSION -e debian/changelog || true)
    [[ -z "$hits" ]] || fail "the version is written by hand in: $hits"
    # any version where one is declared: scripts, make files, .pc, man headers
    hits=$(cd "$REPO_ROOT" && git ls-files -z | xargs -0 grep -nE \
        -e '(OBJPOOL|CORE)_VERSION *[:?]?= *[0-9]' -e '^Version: *[0-9]' -e '^\.TH .*"objpool [0-9]' |
        grep -v '^debian/changelog:' || true)
    [[ -z "$hits" ]] || fail "a version written by hand: $hits"
}

@test "every artefact takes VERSION: the command, the .pc file, the built man pages, debian/changelog" {
    run "$REPO_ROOT/scripts/objpool" --version
    assert_success
    assert_output "objpool $VERSION_NOW"
    grep -qx "Version: $VERSION_NOW" "$REPO_ROOT/build/objpool.pc" || fail "objpool.pc: $(grep Version "$REPO_ROOT/build/objpool.pc")"
    local page
    for page in objpool.1 objpool.conf.5 objpool.3; do
        head -n 1 "$REPO_ROOT/build/man/$page" | grep -qF " \"objpool $VERSION_NOW\" " ||
            fail "build/man/$page: $(head -n 1 "$REPO_ROOT/build/man/$page")"
        head -n 1 "$REPO_ROOT/man/$page" | grep -qF ' "objpool" ' || fail "man/$page: the .TH line must say \"objpool\""
    done
    local top
    top=$(head -n 1 "$REPO_ROOT/debian/changelog")
    [[ "$top" == "objpool ($VERSION_NOW) "* ]] || fail "debian/changelog: $top"
}

# --- the Debian packages ------------------------------------------------------------

require_pkg_tools() {
    require_cmd dpkg-buildpackage dpkg-deb dpkg git
    git -C "$REPO_ROOT" rev-parse --git-dir >/dev/null 2>&1 || skip "not a git checkout: git archive needs one"
    MA=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null) || skip "dpkg-architecture failed"
    ARCH=$(dpkg --print-architecture)
    OBJPOOL_DEB="$PKG_DIR/objpool_${VERSION_NOW}_$ARCH.deb"
    DEV_DEB="$PKG_DIR/libobjpool-core-dev_${VERSION_NOW}_$ARCH.deb"
}

# the packages the first test built (the tests run in order)
require_debs() {
    require_pkg_tools
    [[ -f "$OBJPOOL_DEB" && -f "$DEV_DEB" ]] || fail "the packages were not built (see the build test)"
}

# dpkg -i and -r need root: SUDO is empty for root, sudo where it needs
# no password
require_root() {
    SUDO=
    if [[ $(id -u) != 0 ]]; then
        sudo -n true 2>/dev/null || skip "needs root, or sudo without a password (dpkg -i)"
        SUDO=sudo
    fi
}

# deb_files DEB: the paths a package holds, one a line, without the ./
deb_files() {
    dpkg-deb -c "$1" | awk '{print $6}' | sed 's|^\./|/|'
}

@test "dpkg-buildpackage -us -uc -b builds objpool and libobjpool-core-dev from a copy of the tree" {
    require_pkg_tools
    local before tree
    before=$(git -C "$REPO_ROOT" status --porcelain)
    # the work tree with its uncommitted changes to tracked files, as a commit
    tree=$(git -C "$REPO_ROOT" stash create 2>/dev/null)
    rm -rf "$PKG_DIR"
    mkdir -p "$PKG_DIR"
    git -C "$REPO_ROOT" archive --prefix=objpool/ "${tree:-HEAD}" | tar -C "$PKG_DIR" -xf -
    (cd "$PKG_DIR/objpool" && DEB_BUILD_OPTIONS=parallel=2 timeout 900 dpkg-buildpackage -us -uc -b) \
        >"$PKG_DIR/build.log" 2>&1 || fail "dpkg-buildpackage failed: $(tail -n 30 "$PKG_DIR/build.log")"
    assert_equal "$(git -C "$REPO_ROOT" status --porcelain)" "$before"
    [[ -f "$OBJPOOL_DEB" && -f "$DEV_DEB" ]] || fail "no packages: $(ls "$PKG_DIR")"

    local files f
    files=$(deb_files "$OBJPOOL_DEB")
    for f in /usr/bin/objpool "/usr/lib/$MA/objpool/libobjpool.so" "/usr/lib/$MA/objpool/objpool-tool" \
        /usr/share/man/man1/objpool.1.gz /usr/share/man/man5/objpool.conf.5.gz \
        /usr/share/doc/objpool/examples/redis.conf /usr/share/doc/objpool/examples/everything.conf \
        /usr/share/bash-completion/completions/objpool; do
        grep -qxF "$f" <<<"$files" || fail "objpool lacks $f: $files"
    done
    [[ "$files" != *objpool.h* && "$files" != *libobjpool-core* ]] || fail "objpool holds the core library"
    files=$(deb_files "$DEV_DEB")
    for f in /usr/include/objpool.h "/usr/lib/$MA/libobjpool-core.a" "/usr/lib/$MA/libobjpool-core.so" \
        "/usr/lib/$MA/libobjpool-core.so.0" "/usr/lib/$MA/pkgconfig/objpool.pc" /usr/share/man/man3/objpool.3.gz; do
        grep -qxF "$f" <<<"$files" || fail "libobjpool-core-dev lacks $f: $files"
    done
    [[ "$files" != */objpool/libobjpool.so* && "$files" != */bin/* ]] || fail "the dev package holds the command"
    # the command's library path is the one the build wrote in
    dpkg-deb --fsys-tarfile "$OBJPOOL_DEB" | tar -xOf - ./usr/bin/objpool >"$PKG_DIR/objpool.sh"
    grep -qx "OBJPOOL_INSTALLED_LIBDIR=/usr/lib/$MA/objpool" "$PKG_DIR/objpool.sh" || fail "libdir not written in"
    grep -qx "OBJPOOL_VERSION=$VERSION_NOW" "$PKG_DIR/objpool.sh" || fail "version not written in"
    grep -qx "OBJPOOL_SYSTEM_CONFIG=/etc/objpool.conf" "$PKG_DIR/objpool.sh" || fail "system config not written in"
}

@test "debian/rules refuses a changelog whose version is not VERSION" {
    require_pkg_tools
    local src="$BATS_TEST_TMPDIR/src"
    git -C "$REPO_ROOT" archive --prefix=src/ HEAD | tar -C "$BATS_TEST_TMPDIR" -xf -
    echo 9.9.9 >"$src/VERSION"
    run --separate-stderr bash -c "cd '$src' && dpkg-buildpackage -us -uc -b"
    assert_failure
    [[ "$stderr$output" == *"debian/changelog has version $VERSION_NOW, VERSION has 9.9.9"* ]] ||
        fail "no version message: ${stderr: -2000}"
}

@test "lintian finds no error (E:) in the packages" {
    require_debs
    require_cmd lintian
    run timeout 600 lintian "$OBJPOOL_DEB" "$DEV_DEB"
    echo "$output"
    [[ "$output" != *"E: "* ]] || fail "lintian errors: $(grep 'E: ' <<<"$output")"
    assert_success
}

# dpkg_do ARGS...: dpkg, waiting (up to 2 min) while another dpkg or apt
# holds the lock
dpkg_do() {
    local i
    for ((i = 0; i < 60; i++)); do
        if $SUDO dpkg "$@" >"$BATS_TEST_TMPDIR/dpkg.out" 2>&1; then
            return 0
        fi
        grep -qi "lock" "$BATS_TEST_TMPDIR/dpkg.out" || break
        sleep 2
    done
    cat "$BATS_TEST_TMPDIR/dpkg.out" >&2
    return 1
}

INSTALLED=0
teardown() {
    if ((INSTALLED)); then
        dpkg_do -r objpool libobjpool-core-dev || true
    fi
    stop_all_tagservers
}

@test "installed with dpkg -i: /usr/bin/objpool pools the tag client, pkg-config builds the example; dpkg -r removes it" {
    require_debs
    require_root
    require_lib
    require_cmd pkg-config cc
    local p f
    for p in objpool libobjpool-core-dev; do
        if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q installed; then
            skip "package $p is installed already: not touching it"
        fi
    done
    for f in /usr/bin/objpool /usr/include/objpool.h "/usr/lib/$MA/objpool" "/usr/lib/$MA/pkgconfig/objpool.pc"; do
        [[ ! -e "$f" ]] || skip "$f exists already: not overwriting it"
    done
    INSTALLED=1
    dpkg_do -i "$OBJPOOL_DEB" "$DEV_DEB" || fail "dpkg -i failed"

    run /usr/bin/objpool --version
    assert_output "objpool $VERSION_NOW"
    [[ -f /usr/share/bash-completion/completions/objpool ]] || fail "no bash completion"
    start_tagserver
    local rep="$BATS_TEST_TMPDIR/rep.json" lib="/usr/lib/$MA/objpool/libobjpool.so"
    run --separate-stderr timeout "$OBJPOOL_TEST_TIMEOUT" /usr/bin/objpool run -p "tcp://127.0.0.1:$PORT?proto=line" \
        -r "$rep" --json -- sh -c 'echo "$LD_PRELOAD" >"$0.env"; exec "$@"' "$rep" \
        "$TOOLS/tagclient" --port "$PORT" --cycles 100
    show_run
    assert_client_clean 100
    assert_equal "$(cat "$rep.env")" "$lib"
    expect_num "$(json_field "$rep" "tcp://127.0.0.1:$PORT" hits)" -gt 0 "hits"
    expect_num "$(accepts)" -le 2 "server accepts"
    run /usr/bin/objpool report "$rep"
    assert_success

    # the core library, found by pkg-config alone
    cd "$BATS_TEST_TMPDIR"
    run env -u PKG_CONFIG_PATH pkg-config --cflags --libs objpool
    assert_success
    # shellcheck disable=SC2046
    cc -o pool_buffers "$REPO_ROOT/examples/pool_buffers.c" $(env -u PKG_CONFIG_PATH pkg-config --cflags --libs objpool) ||
        fail "the example does not build against the package"
    run ./pool_buffers
    assert_success
    # the packaged shared library (/lib is /usr/lib where /usr is merged)
    local so
    so=$(ldd ./pool_buffers | awk '$1 == "libobjpool-core.so.0" {print $3}')
    assert_equal "$(readlink -f "$so")" "/usr/lib/$MA/libobjpool-core.so.0"

    dpkg_do -r objpool libobjpool-core-dev || fail "dpkg -r failed"
    INSTALLED=0
    for f in /usr/bin/objpool /usr/include/objpool.h "/usr/lib/$MA/objpool" "/usr/lib/$MA/libobjpool-core.so.0" \
        "/usr/lib/$MA/pkgconfig/objpool.pc" /usr/share/bash-completion/completions/objpool; do
        [[ ! -e "$f" ]] || fail "left behind: $f"
    done
    run env -u PKG_CONFIG_PATH pkg-config --exists objpool
    assert_failure
}
