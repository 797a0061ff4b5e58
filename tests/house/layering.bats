#!/usr/bin/env bats
# no call from objpool's code reaches its own exported interposers
# (objdump); includes only downward; files small, each says what it owns;
# the library exports exactly the functions `base/real_list.h` lists, and
# only `base/real.c` calls `dlsym` or a raw syscall; the same file rules for
# the command's helper, the benches, the test tools (tests/house.py);
# docs/design.md's picture names every file and function (tests/picture.py);
# this table is the suites' own (tests/suites.py)
#
# The shape of the house (preload/): objpool's own code never calls back
# into its exported interposers, every layer includes only its own or lower
# layers, and every file is small and says what it owns. The rules are
# written once, in tests/layers.py and exported_calls() below. The same file
# rules hold for the code around the library (tests/house.py), and the docs
# that describe the tree are checked against it (tests/picture.py,
# tests/suites.py); each check is also run on a copy with a planted
# violation, which it must catch. `make check-static` runs the four scripts.

load ../helpers

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

# A copy of the files tests/house.py checks, for planting a violation.
house_copy() {
    local root=$1
    mkdir -p "$root/scripts" "$root/tests"
    cp -r "$REPO_ROOT/scripts/tool" "$root/scripts/"
    cp -r "$REPO_ROOT/bench" "$root/"
    cp -r "$REPO_ROOT/tests/tools" "$root/tests/"
}

@test "house: the command's helper, the benches and the test tools open with what they own, <= 500 lines" {
    run "$OBJPOOL_PY" "$REPO_ROOT/tests/house.py" "$REPO_ROOT"
    show_run
    assert_success
    assert_output ""
}

@test "house: the check catches an overlong tool and files that do not say what they own (C and Python)" {
    local root="$BATS_TEST_TMPDIR/house"
    house_copy "$root"
    seq 600 | sed 's|.*|/* filler */|' >>"$root/tests/tools/spare.c"
    sed -i '1s|^/\* main.c - |/* the command - |' "$root/scripts/tool/main.c"
    sed -i '2s|^# loops.py - |# the loops: |' "$root/bench/loops.py"
    run "$OBJPOOL_PY" "$REPO_ROOT/tests/house.py" "$root"
    assert_failure
    assert_output --partial "tests/tools/spare.c: "
    assert_output --partial "lines (at most 500)"
    assert_output --partial "scripts/tool/main.c: does not open with '/* main.c - <what it owns>'"
    assert_output --partial "bench/loops.py: does not open with '# loops.py - <what it owns>'"
    [[ $(wc -l <<<"$output") -eq 3 ]] || fail "want exactly the three planted violations: $output"
}

@test "docs: design.md opens with the picture, which names every preload/ file; its call chains name functions that exist where they say" {
    run "$OBJPOOL_PY" "$REPO_ROOT/tests/picture.py" "$REPO_ROOT"
    show_run
    assert_success
    assert_output ""
}

@test "docs: the picture check catches a file missing from the picture, a gone function, a function in the wrong file, a section above the house" {
    local root="$BATS_TEST_TMPDIR/pic"
    mkdir -p "$root"
    cp -r "$REPO_ROOT/preload" "$REPO_ROOT/docs" "$root/"
    printf '/* planted.c - planted */\n' >"$root/preload/core/planted.c"
    sed -i 's|^\(\s*\)reg_place_high\(\s\)|\1reg_place_hi  \2|' "$root/docs/design.md"
    sed -i 's|^\(\s*\)objpool_release\(\s*\)core/pool.c|\1objpool_release\2core/registry.c|' "$root/docs/design.md"
    sed -i '0,/^## The house/s|^## The house|## Before the house\n\ntext\n\n## The house|' "$root/docs/design.md"
    run "$OBJPOOL_PY" "$REPO_ROOT/tests/picture.py" "$root"
    assert_failure
    assert_output --partial "preload/core/planted.c is not in the picture (core/)"
    assert_output --partial "a call chain names reg_place_hi(), which preload/ does not define"
    assert_output --partial "a call chain puts objpool_release() in core/registry.c, which does not define it"
    assert_output --partial "does not open with the picture"
}

@test "docs: the README's suites table is the one the suites' opening comments make" {
    run "$OBJPOOL_PY" "$REPO_ROOT/tests/suites.py" "$REPO_ROOT"
    show_run
    assert_success
    assert_output ""
}

@test "docs: the suites table check catches a suite added, a suite's comment changed, and --write mends them" {
    local root="$BATS_TEST_TMPDIR/suites"
    mkdir -p "$root"
    cp -r "$REPO_ROOT/tests" "$REPO_ROOT/README.md" "$root/"
    local one
    one=$(cd "$root/tests" && ls -- *.bats */*.bats 2>/dev/null | head -1)
    printf '#!/usr/bin/env bats\n# a planted suite\n' >"$root/tests/planted.bats"
    sed -i '2s|^# |# changed: |' "$root/tests/$one"
    run "$OBJPOOL_PY" "$REPO_ROOT/tests/suites.py" "$root"
    assert_failure
    assert_output --partial "+| \`planted.bats\` | a planted suite |"
    assert_output --partial "+| \`$one\` | changed: "
    run "$OBJPOOL_PY" "$REPO_ROOT/tests/suites.py" --write "$root"
    assert_success
    run "$OBJPOOL_PY" "$REPO_ROOT/tests/suites.py" "$root"
    assert_success
}
