<?php
// php-memcached client loop for objpool's tests.
//
//     php memcached_loop.php PORT COUNT
//
// Operation i: a new Memcached object (its own connection, closed by
// quit()), set key "php_<i>" to a value unique to the run and i, get it
// back and compare.  Prints "ops=N ok=N mismatches=N errors=N" on stdout;
// exit 1 on a mismatch, 2 on an error, else 0.

$port = (int)$argv[1];
$count = (int)$argv[2];
$run = getmypid() . "." . hrtime(true);
$ok = $mismatches = $errors = 0;
for ($i = 0; $i < $count; $i++) {
    $m = new Memcached();
    $m->setOption(Memcached::OPT_BINARY_PROTOCOL, false);
    $m->addServer("127.0.0.1", $port);
    $key = "php_$i";
    $val = "$run-$i-" . str_repeat("v", $i % 50);
    if (!$m->set($key, $val)) {
        $errors++;
        fwrite(STDERR, "ERROR op $i: set: " . $m->getResultMessage() . "\n");
        $m->quit();
        continue;
    }
    $got = $m->get($key);
    if ($got === $val) {
        $ok++;
    } elseif ($got === false) {
        $errors++;
        fwrite(STDERR, "ERROR op $i: get: " . $m->getResultMessage() . "\n");
    } else {
        $mismatches++;
        fwrite(STDERR, "MISMATCH op $i: expected '$val' got '$got'\n");
    }
    $m->quit();
}
echo "ops=$count ok=$ok mismatches=$mismatches errors=$errors\n";
exit($mismatches ? 1 : ($errors ? 2 : 0));
