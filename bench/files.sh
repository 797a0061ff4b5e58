#!/usr/bin/env bash
# bench/files.sh - file pooling, side by side in one run (make bench-files):
# ns per fopen + fgets + fclose of a small file
#   1. without objpool
#   2. pooled, validate=stat (the default: one stat(2) per reuse)
#   3. pooled, validate=none
#   4. one FILE kept open, fflush + rewind + fgets per cycle: the limit of
#      any reuse that re-reads through the kernel
# Pinned to CPU 0 (taskset -c 0). The four cases run in turn PASSES times
# and each keeps its best pass, so a burst of load elsewhere on the machine
# does not land on one case only. Targets (issue 4): validated >= 1.5x and
# validate=none >= 3x faster than without objpool; printed as MET/MISSED.
set -u
cd "$(dirname "$0")/.." || exit 2
BUILD=${BUILD:-build}
LIB=${OBJPOOL_LIB:-$PWD/$BUILD/libobjpool.so}
BENCH=$PWD/$BUILD/tests/filebench
ITERS=${ITERS:-20000}
ROUNDS=${ROUNDS:-5}
PASSES=${PASSES:-3}
for f in "$LIB" "$BENCH"; do
    [[ -x "$f" || -f "$f" ]] || { echo "bench-files: $f is not built (make)" >&2; exit 2; }
done
PIN=()
if command -v taskset >/dev/null 2>&1; then
    PIN=(taskset -c 0)
else
    echo "bench-files: taskset not found: running unpinned" >&2
fi

dir=$(mktemp -d "$PWD/$BUILD/bench-files.XXXXXX") || exit 2
trap 'rm -rf "$dir"' EXIT
file=$dir/app.conf
printf 'listen = 127.0.0.1:8080\nworkers = 4\nlog = /var/log/app.log\n' >"$file"

one() { # case -> ns per op
    local out
    case $1 in
    plain) out=$("${PIN[@]}" "$BENCH" "$file" --iters "$ITERS" --rounds "$ROUNDS") ;;
    stat) out=$(env LD_PRELOAD="$LIB" OBJPOOL_POOLS="file://$file" OBJPOOL_REPORT=none \
        "${PIN[@]}" "$BENCH" "$file" --iters "$ITERS" --rounds "$ROUNDS") ;;
    none) out=$(env LD_PRELOAD="$LIB" OBJPOOL_POOLS="file://$file?validate=none" OBJPOOL_REPORT=none \
        "${PIN[@]}" "$BENCH" "$file" --iters "$ITERS" --rounds "$ROUNDS") ;;
    kept) out=$("${PIN[@]}" "$BENCH" "$file" --kept --iters "$ITERS" --rounds "$ROUNDS") ;;
    esac || { echo "bench-files: case $1 failed: $out" >&2; exit 1; }
    out=${out#*ns_per_op=}
    echo "${out%% *}"
}

declare -A best
for ((p = 0; p < PASSES; p++)); do
    for c in plain stat none kept; do
        v=$(one "$c") || exit 1
        if [[ -z "${best[$c]:-}" ]] || ((v < best[$c])); then
            best[$c]=$v
        fi
    done
done

# hits really happened? (a pooled run that silently fell back would look like "plain")
hits=$(env LD_PRELOAD="$LIB" OBJPOOL_POOLS="file://$file" OBJPOOL_REPORT_FORMAT=json OBJPOOL_REPORT=stderr \
    "$BENCH" "$file" --iters 1000 --rounds 1 2>&1 >/dev/null | grep -o '"hits":[0-9]*' | head -n 1)

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
verdict() { awk -v r="$1" -v t="$2" 'BEGIN { print (r >= t) ? "MET" : "MISSED" }'; }
p=${best[plain]}
printf 'bench-files: fopen + fgets + fclose of a %d-byte file, best of %d passes x %d rounds x %d cycles, %s\n' \
    "$(wc -c <"$file")" "$PASSES" "$ROUNDS" "$ITERS" "${PIN[*]:-unpinned}"
printf '  %-40s %9s %9s  %s\n' "case" "ns/op" "speed-up" "target"
printf '  %-40s %9s %9s  %s\n' "without objpool" "$p" "1.00x" ""
r=$(ratio "$p" "${best[stat]}")
printf '  %-40s %9s %8sx  %s\n' "pooled, validate=stat" "${best[stat]}" "$r" ">= 1.5x: $(verdict "$r" 1.5)"
r=$(ratio "$p" "${best[none]}")
printf '  %-40s %9s %8sx  %s\n' "pooled, validate=none" "${best[none]}" "$r" ">= 3x: $(verdict "$r" 3)"
r=$(ratio "$p" "${best[kept]}")
printf '  %-40s %9s %8sx  %s\n' "kept-open FILE, fflush+rewind (limit)" "${best[kept]}" "$r" ""
printf '  (pooled check run: %s of 1000 cycles)\n' "${hits:-no report}"
