<?php
// The contract of every coverage client, for the PHP ones (see py_common.py):
// argv PORT N TAG; "ok=N" and exit 0, or the wrong value named and exit 1.
function cov_args() { global $argv; return [(int)$argv[1], (int)$argv[2], $argv[3]]; }
function cov_key($tag, $i) { return "cov:$tag:$i"; }
function cov_value($tag, $i) { return "$tag-$i-" . str_repeat("x", $i % 13); }
function cov_path($i) { return "/f/cov" . ($i % 10) . ".txt"; }
function cov_body($i) { return str_repeat("coverage file " . ($i % 10) . "\n", $i % 10 + 1); }
function cov_check($i, $want, $got) {
    if ($want === $got) return;
    fwrite(STDERR, "wrong value at op $i: expected " . var_export($want, true) .
        ", got " . var_export($got, true) . "\n");
    exit(1);
}
function cov_done($n) { echo "ok=$n\n"; }
