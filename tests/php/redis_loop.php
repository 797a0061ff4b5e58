<?php
// phpredis client loop for objpool's tests.
//
//     php redis_loop.php PORT COUNT
//
// Operation i: a new Redis object (its own connection), connect, set key
// "phpredis_<i>" to a value unique to the run and i, get it back and
// compare, close.  Prints "ops=N ok=N mismatches=N errors=N" on stdout;
// exit 1 on a mismatch, 2 on an error, else 0.

$port = (int)$argv[1];
$count = (int)$argv[2];
$run = getmypid() . "." . hrtime(true);
$ok = $mismatches = $errors = 0;
for ($i = 0; $i < $count; $i++) {
    $key = "phpredis_$i";
    $val = "$run-$i-" . str_repeat("v", $i % 50);
    try {
        $r = new Redis();
        $r->connect("127.0.0.1", $port, 2.0);
        $r->set($key, $val);
        $got = $r->get($key);
        $r->close();
    } catch (RedisException $e) {
        $errors++;
        fwrite(STDERR, "ERROR op $i: " . $e->getMessage() . "\n");
        continue;
    }
    if ($got === $val) {
        $ok++;
    } else {
        $mismatches++;
        fwrite(STDERR, "MISMATCH op $i: expected '$val' got '" . var_export($got, true) . "'\n");
    }
}
echo "ops=$count ok=$ok mismatches=$mismatches errors=$errors\n";
exit($mismatches ? 1 : ($errors ? 2 : 0));
