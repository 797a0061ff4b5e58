#!/usr/bin/env bats
# each parser alone: every exchange whole, split at every byte, byte by byte
#
# The protocol parsers alone (preload/conn/proto/): each unit program
# replays its exchanges whole, split at every byte boundary and byte by
# byte, and checks the verdict at close.

load ../helpers

run_proto_unit() {
    local bin="${OBJPOOL_TOOLS:-$REPO_ROOT/build/tests}/proto/$1_test"
    [[ -x "$bin" ]] || fail "parser unit test not built: $bin (run make)"
    run --separate-stderr timeout "$OBJPOOL_TEST_TIMEOUT" "$bin"
    show_run
    assert_success
    assert_output --partial ", 0 failed"
}

@test "proto: detection from the first bytes written" { run_proto_unit detect; }
@test "proto: line parser" { run_proto_unit line; }
@test "proto: redis (RESP2/RESP3) parser" { run_proto_unit redis; }
@test "proto: http/1.x parser" { run_proto_unit http; }
@test "proto: memcache (text, meta, binary) parser" { run_proto_unit memcache; }
@test "proto: postgres (protocol 3.0) parser" { run_proto_unit postgres; }
@test "proto: mysql (protocol 10, MariaDB's extensions) parser" { run_proto_unit mysql; }
