#!/usr/bin/env bats
# The shape of the house (preload/): objpool's own code never calls back
# into its exported interposers, every layer includes only its own or lower
# layers, and every file is small and says what it owns. The rules are
# written once, in tests/layers.py and exported_calls() below.

load helpers

# Every call or jump through the PLT, in the library's own code, to a symbol
# the library itself exports: such a call re-enters an interposer
# (semantic interposition) instead of reaching libc.
exported_calls() {
    local so=$1
    comm -12 \
        <(nm -D --defined-only "$so" | awk '{print $3}' | sed 's/@.*//' | sort -u) \
        <(objdump -d --no-show-raw-insn "$so" | grep -oE '(call|jmp)q? +[0-9a-f]+ <[^>]+@plt>' |
            sed -E 's/.*<([^@]+)@plt>/\1/' | sort -u)
}

@test "layering: no call from objpool's own code reaches an exported interposer (objdump)" {
    require_cmd objdump nm
    local so="${LIB##*:}"
    [[ -f "$so" ]] || fail "library not built: $so"
    # the check sees the calls it looks for: the library does call libc
    # functions it does not export through the PLT
    run bash -c "objdump -d '$so' | grep -cE 'call +[0-9a-f]+ <getsockopt@plt>'"
    [[ "$output" -ge 1 ]] || fail "objdump shows no call to getsockopt@plt: the check would see nothing"
    run exported_calls "$so"
    assert_success
    assert_output ""
}

@test "layering: the library exports exactly the functions base/real_list.h lists (nm)" {
    require_cmd nm
    local so="${LIB##*:}"
    [[ -f "$so" ]] || fail "library not built: $so"
    run diff <("$OBJPOOL_PY" "$REPO_ROOT/tests/layers.py" --interposed "$REPO_ROOT/preload") \
        <(nm -D --defined-only "$so" | awk '$2 ~ /^[TtWi]$/ {print $3}' | sed 's/@.*//' | LC_ALL=C sort -u)
    show_run
    assert_success
}

@test "layering: each layer includes only its own or lower layers; files open with what they own, <= 500 lines" {
    run "$OBJPOOL_PY" "$REPO_ROOT/tests/layers.py" "$REPO_ROOT/preload"
    show_run
    assert_success
}

@test "layering: the include check catches an upward include and an overlong file" {
    local tree="$BATS_TEST_TMPDIR/preload"
    cp -r "$REPO_ROOT/preload" "$tree"
    printf '#include "../interpose/interpose.h"\n' >>"$tree/core/registry.c"
    run "$OBJPOOL_PY" "$REPO_ROOT/tests/layers.py" "$tree"
    assert_failure
    assert_output --partial "core (layer 2) includes interpose (layer 5)"
    cp -r "$REPO_ROOT/preload/." "$tree/"
    printf '#include "../file/filepool.h"\n' >>"$tree/conn/conn.c"
    run "$OBJPOOL_PY" "$REPO_ROOT/tests/layers.py" "$tree"
    assert_failure
    assert_output --partial "conn (layer 4) includes file (layer 4)"
    cp -r "$REPO_ROOT/preload/." "$tree/"
    seq 600 | sed 's|.*|/* filler */|' >>"$tree/lease/lease.c"
    run "$OBJPOOL_PY" "$REPO_ROOT/tests/layers.py" "$tree"
    assert_failure
    assert_output --partial "lease/lease.c: "
}

@test "layering: the interposer check catches an unlisted export and a call around real" {
    local tree="$BATS_TEST_TMPDIR/preload"
    cp -r "$REPO_ROOT/preload" "$tree"
    printf 'OBJPOOL_EXPORT int listen(int fd, int n)\n{\n    return real.close(fd + n);\n}\n' >>"$tree/interpose/socket.c"
    run "$OBJPOOL_PY" "$REPO_ROOT/tests/layers.py" "$tree"
    assert_failure
    assert_output --partial "interpose/socket.c: exports listen, which base/real_list.h does not list"
    cp -r "$REPO_ROOT/preload/." "$tree/"
    printf 'static long bypass(int fd)\n{\n    return syscall(SYS_close, fd);\n}\n' >>"$tree/conn/conn.c"
    printf 'static void *bypass(void)\n{\n    return dlsym(RTLD_NEXT, "close");\n}\n' >>"$tree/file/file.c"
    run "$OBJPOOL_PY" "$REPO_ROOT/tests/layers.py" "$tree"
    assert_failure
    assert_output --partial "conn/conn.c: calls syscall( directly"
    assert_output --partial "file/file.c: calls dlsym( directly"
}
