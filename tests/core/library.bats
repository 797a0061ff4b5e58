#!/usr/bin/env bats
# the C library: order, validate/reset, expiry, borrow scope on every exit
# path, foreign/double release, 8 threads × 100k, pkg-config from a staged
# install
#
# The pool core as a C library (issue 8): libobjpool-core's API, the scoped
# borrow macro, thread safety, the example, and install + pkg-config.
# Each unit case is one run of build/tests/unit/core_test CASE.

load ../helpers

UNIT="${OBJPOOL_TOOLS:-$REPO_ROOT/build/tests}/unit/core_test" # the sanitizer stages point OBJPOOL_TOOLS at their build

run_unit() {
    [[ -x "$UNIT" ]] || fail "unit tests not built: $UNIT (run make)"
    run --separate-stderr timeout "$OBJPOOL_TEST_TIMEOUT" "$UNIT" "$1"
    show_run
    assert_success
    assert_output --partial "$1: ok"
}

# --- the pool ------------------------------------------------------------------

@test "core: a released object is reused (pattern_kit example), stats add up" {
    run_unit reuse
}

@test "core: release into a full pool destroys the object, counted as 'full'" {
    run_unit full_destroys
}

@test "core: max_size 0 never parks: every release destroys" {
    run_unit max_size_zero
}

@test "core: max_size SIZE_MAX (no bound) parks without mapping SIZE_MAX entries" {
    run_unit unbounded
}

@test "core: LIFO order by default" {
    run_unit lifo
}

@test "core: a keyed acquire takes only an idle object with that key, newest first; the others stay idle" {
    run_unit keyed
}

@test "core: FIFO order" {
    run_unit fifo
}

@test "core: validate rejects an idle object: destroyed and counted (also for -1)" {
    run_unit validate_rejects
}

@test "core: reset runs on every reuse; a failed reset discards" {
    run_unit reset_on_reuse
}

@test "core: idle_timeout expires idle objects (on acquire and evict_expired)" {
    run_unit idle_timeout
}

@test "core: max_lifetime expires idle objects and destroys on release" {
    run_unit max_lifetime
}

@test "core: max_lifetime set after objects exist applies to them" {
    run_unit lifetime_set_later
}

@test "core: max_lifetime jitter spreads deadlines within the last 10%" {
    run_unit lifetime_jitter
}

@test "core: evict_expired skips the ring only until the earliest deadline, which a setting change or an earlier park moves" {
    run_unit evict_after_setting_change
}

@test "core: objpool_clear destroys idle objects only" {
    run_unit clear
}

@test "core: objpool_free destroys the idle objects" {
    run_unit free_destroys_idle
}

@test "core: lowering max_size destroys the oldest surplus" {
    run_unit shrink
}

@test "core: foreign release is refused, counted, the pool is untouched" {
    run_unit foreign_release
}

@test "core: double release is refused, counted, the pool stays consistent" {
    run_unit double_release
}

@test "core: objpool_adopt_failed turns an adoption into a create failure and destroys the object once" {
    run_unit adopt_failed
}

# --- OBJPOOL_BORROW ------------------------------------------------------------

@test "borrow: released on normal exit of the block" {
    run_unit borrow_normal
}

@test "borrow: released on break (and continue)" {
    run_unit borrow_break
}

@test "borrow: released on return from inside the block" {
    run_unit borrow_return
}

@test "borrow: released on goto out of the block" {
    run_unit borrow_goto
}

@test "borrow: objpool_borrow_broken destroys instead of parking" {
    run_unit borrow_broken
}

@test "borrow: the body does not run when the acquire fails" {
    run_unit borrow_acquire_fails
}

@test "borrow: the pool expression is evaluated once" {
    run_unit borrow_pool_once
}

# --- threads -------------------------------------------------------------------

@test "core: 8 threads x 100000 rounds: no object lost or handed out twice" {
    run_unit threads
}

@test "core: every case of core_test has a @test here" {
    every_unit_case_has_a_test
}

# --- the built library, the example, the man page --------------------------------

@test "libobjpool-core.so exports only the objpool_* API" {
    local so="$REPO_ROOT/build/libobjpool-core.so"
    [[ -f "$so" ]] || fail "not built: $so"
    run nm -D --defined-only "$so"
    assert_success
    local syms others
    syms=$(awk '{print $NF}' <<<"$output")
    others=$(grep -v '^objpool_' <<<"$syms" || true)
    assert_equal "$others" ""
    grep -qx objpool_new <<<"$syms" || fail "objpool_new not exported"
    grep -qx objpool_borrow_end <<<"$syms" || fail "objpool_borrow_end not exported"
}

@test "example pool_buffers runs and prints consistent stats" {
    local ex="$REPO_ROOT/build/examples/pool_buffers"
    [[ -x "$ex" ]] || fail "not built: $ex (run make)"
    run_plain "$ex"
    assert_success
    assert_output --partial "discarded broken 20"
    assert_output --partial "discarded full 4"
    local acq hits misses
    read -r _ acq _ hits _ misses _ <<<"$(grep '^acquired' <<<"$output")"
    expect_num "$acq" -eq $((hits + misses)) "acquired = hits + misses"
    expect_num "$hits" -gt 900 "hits"
}

@test "man page objpool.3 renders without warnings" {
    require_cmd man
    run --separate-stderr env MANWIDTH=80 man --warnings -l "$REPO_ROOT/man/objpool.3"
    show_run
    assert_success
    assert_equal "$stderr" ""
    assert_output --partial "OBJPOOL_BORROW"
}

# --- install + pkg-config ------------------------------------------------------------

# Installs into a DESTDIR under the test's tmpdir and writes a small program
# outside the repository. pkgconf (Debian's pkg-config) prefixes -I/-L with
# PKG_CONFIG_SYSROOT_DIR, so the .pc written for PREFIX=/usr/local points
# into the DESTDIR tree.
install_and_write_prog() {
    require_cmd pkg-config cc
    DEST="$BATS_TEST_TMPDIR/dest"
    run make -C "$REPO_ROOT" -s install-core DESTDIR="$DEST" PREFIX=/usr/local
    show_run
    assert_success
    export PKG_CONFIG_SYSROOT_DIR="$DEST" PKG_CONFIG_PATH="$DEST/usr/local/lib/pkgconfig"
    unset PKG_CONFIG_LIBDIR
    cat >"$BATS_TEST_TMPDIR/prog.c" <<'C'
#include <objpool.h>
#include <stdio.h>
#include <stdlib.h>

static int made;
static void *mk(void *u, void *a) { (void)u; (void)a; made++; return malloc(16); }
static void rm(void *u, void *o) { (void)u; free(o); }

int main(void)
{
    objpool_t *p = objpool_new(mk, rm, NULL, NULL, NULL, 10);
    for (int i = 0; i < 5; i++) {
        OBJPOOL_BORROW(p, char *, buf) {
            buf[0] = 'x';
        }
    }
    objpool_stats_t st;
    objpool_get_stats(p, &st);
    printf("made %d hits %llu\n", made, (unsigned long long)st.hits);
    objpool_free(p);
    return made == 1 && st.hits == 4 ? 0 : 1;
}
C
}

@test "install-core: header, libs, .pc and man page land under DESTDIR/PREFIX" {
    install_and_write_prog
    local f
    for f in include/objpool.h lib/libobjpool-core.a lib/libobjpool-core.so.0 lib/libobjpool-core.so \
        lib/pkgconfig/objpool.pc share/man/man3/objpool.3; do
        [[ -e "$DEST/usr/local/$f" ]] || fail "not installed: $f"
    done
    run cat "$DEST/usr/local/lib/pkgconfig/objpool.pc"
    assert_output --partial "prefix=/usr/local"
    assert_output --partial 'Libs: -L${libdir} -lobjpool-core'
    assert_output --partial 'Cflags: -I${includedir}'
    run pkg-config --cflags --libs objpool
    assert_success
    assert_output --partial "-I$DEST/usr/local/include"
    assert_output --partial "-L$DEST/usr/local/lib"
}

@test "pkg-config: a program outside the repo builds against the shared library and runs" {
    install_and_write_prog
    cd "$BATS_TEST_TMPDIR"
    run cc -o prog prog.c $(pkg-config --cflags --libs objpool)
    show_run
    assert_success
    # linked dynamically, and the loader picks the installed copy
    run readelf -d prog
    assert_output --partial "libobjpool-core.so.0"
    run env LD_LIBRARY_PATH="$DEST/usr/local/lib" ldd ./prog
    assert_output --partial "$DEST/usr/local/lib/libobjpool-core.so.0"
    run_plain env LD_LIBRARY_PATH="$DEST/usr/local/lib" ./prog
    assert_success
    assert_output "made 1 hits 4"
}

@test "pkg-config: a program outside the repo links the static library and runs" {
    install_and_write_prog
    cd "$BATS_TEST_TMPDIR"
    run cc -o prog prog.c $(pkg-config --cflags objpool) $(pkg-config --libs-only-L objpool) \
        -Wl,-Bstatic -lobjpool-core -Wl,-Bdynamic $(pkg-config --static --libs-only-l objpool | sed 's/-lobjpool-core//')
    show_run
    assert_success
    run readelf -d prog
    refute_output --partial "libobjpool-core"
    run_plain ./prog
    assert_success
    assert_output "made 1 hits 4"
}

@test "uninstall-core removes every file install-core installed" {
    install_and_write_prog
    run make -C "$REPO_ROOT" -s uninstall-core DESTDIR="$DEST" PREFIX=/usr/local
    assert_success
    run find "$DEST" -type f -o -type l
    assert_output ""
}
