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
#
# Then the same four cases on the files where opening costs more than on
# a short ext4 path (bench.md names the finding): the same small file on
# tmpfs, behind a 30-level directory chain, a sysfs attribute and a
# /proc/sys file (both regular files, re-read at each reuse), with fewer
# cycles (X_ITERS, default 5000); each pooled case checked for hits.
set -u
cd "$(dirname "$0")/.." || exit 2
BUILD=${BUILD:-build}
LIB=${OBJPOOL_LIB:-$PWD/$BUILD/libobjpool.so}
BENCH=$PWD/$BUILD/tests/filebench
ITERS=${ITERS:-20000}
X_ITERS=${X_ITERS:-5000}
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

one() { # case file iters -> ns per op
    local out f=$2 n=$3
    case $1 in
    plain) out=$("${PIN[@]}" "$BENCH" "$f" --iters "$n" --rounds "$ROUNDS") ;;
    stat) out=$(env LD_PRELOAD="$LIB" OBJPOOL_POOLS="file://$f" OBJPOOL_REPORT=none \
        "${PIN[@]}" "$BENCH" "$f" --iters "$n" --rounds "$ROUNDS") ;;
    none) out=$(env LD_PRELOAD="$LIB" OBJPOOL_POOLS="file://$f?validate=none" OBJPOOL_REPORT=none \
        "${PIN[@]}" "$BENCH" "$f" --iters "$n" --rounds "$ROUNDS") ;;
    kept) out=$("${PIN[@]}" "$BENCH" "$f" --kept --iters "$n" --rounds "$ROUNDS") ;;
    esac || { echo "bench-files: case $1 on $f failed: $out" >&2; exit 1; }
    out=${out#*ns_per_op=}
    echo "${out%% *}"
}

# hits FILE: the pooled cycles of a check run that were hits (a pooled run
# that silently fell back would look like "plain")
hits() {
    env LD_PRELOAD="$LIB" OBJPOOL_POOLS="file://$1" OBJPOOL_REPORT_FORMAT=json OBJPOOL_REPORT=stderr \
        "$BENCH" "$1" --iters 1000 --rounds 1 2>&1 >/dev/null | grep -o '"hits":[0-9]*' | head -n 1
}

# measure KEY FILE ITERS: best[KEY.case] for the four cases
declare -A best
measure() {
    local key=$1 f=$2 n=$3 p c v
    for ((p = 0; p < PASSES; p++)); do
        for c in plain stat none kept; do
            v=$(one "$c" "$f" "$n") || exit 1
            if [[ -z "${best[$key.$c]:-}" ]] || ((v < best[$key.$c])); then
                best[$key.$c]=$v
            fi
        done
    done
}

measure main "$file" "$ITERS"
for c in plain stat none kept; do
    best[$c]=${best[main.$c]}
done
hits=$(hits "$file")

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

# --- where opening costs more -------------------------------------------------
deep=$dir
for ((i = 1; i <= 30; i++)); do
    deep=$deep/directory_level_$i
done
mkdir -p "$deep" && cp "$file" "$deep/app.conf"
shm=
if [[ -d /dev/shm && -w /dev/shm ]]; then
    shm=$(mktemp -d /dev/shm/objpool-bench-files.XXXXXX) && cp "$file" "$shm/app.conf"
    trap 'rm -rf "$dir" "$shm"' EXIT
fi
extra=("ext4-or-build-dir|$file" "tmpfs|${shm:+$shm/app.conf}" "30-level directory chain|$deep/app.conf"
    "sysfs|/sys/devices/system/cpu/online" "/proc/sys|/proc/sys/kernel/ostype")
printf '\nbench-files: the same cases where opening costs more; ns per fopen + fgets + fclose, best of %d x %d x %d, %s\n' \
    "$PASSES" "$ROUNDS" "$X_ITERS" "${PIN[*]:-unpinned}"
printf '  %-26s %8s %8s %8s %8s %7s %7s %7s  %s\n' "file" "without" "stat" "none" "kept" "stat x" "none x" "kept x" "hits"
for e in "${extra[@]}"; do
    label=${e%%|*} f=${e#*|}
    [[ $label == ext4-or-build-dir ]] &&
        label="build dir ($(findmnt -n -o FSTYPE -T "$file" 2>/dev/null || stat -f -c %T "$file"))"
    if [[ -z $f || ! -r $f ]]; then
        printf '  %-26s (not available here)\n' "$label"
        continue
    fi
    measure "$label" "$f" "$X_ITERS"
    w=${best[$label.plain]}
    printf '  %-26s %8s %8s %8s %8s %6sx %6sx %6sx  %s\n' "$label" "$w" "${best[$label.stat]}" \
        "${best[$label.none]}" "${best[$label.kept]}" "$(ratio "$w" "${best[$label.stat]}")" \
        "$(ratio "$w" "${best[$label.none]}")" "$(ratio "$w" "${best[$label.kept]}")" "$(hits "$f" | tr -dc 0-9)/1000"
done
