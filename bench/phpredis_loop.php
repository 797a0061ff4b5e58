<?php
// bench/phpredis_loop.php - the PHP request bench.py's table 8 times:
// each "request" is what a PHP page does with phpredis.
//
//     php phpredis_loop.php PORT COUNT new|pconnect
//
//   new       new Redis(); connect(); get(); close(): a connection per request
//   pconnect  new Redis(); pconnect(); get(): phpredis's own persistent
//             connection, kept by the PHP process (the fix a PHP developer
//             would make)
//
// The key is set once before the loop; every get must return its value.
// Prints "ops=N errors=N elapsed_us=N us_per_op=X"; exit 1 on an error.

$port = (int)$argv[1];
$count = (int)$argv[2];
$how = $argv[3];
if ($how !== "new" && $how !== "pconnect") {
    fwrite(STDERR, "usage: php phpredis_loop.php PORT COUNT new|pconnect\n");
    exit(2);
}
$key = "phpredis_loop";
$val = getmypid() . "." . hrtime(true);
$r = new Redis();
$r->connect("127.0.0.1", $port);
$r->set($key, $val);
$r->close();

$errors = 0;
$t0 = hrtime(true);
for ($i = 0; $i < $count; $i++) {
    $r = new Redis();
    if ($how === "new") {
        $r->connect("127.0.0.1", $port);
        $got = $r->get($key);
        $r->close();
    } else {
        $r->pconnect("127.0.0.1", $port);
        $got = $r->get($key);
    }
    if ($got !== $val) {
        $errors++;
        if ($errors <= 5)
            fwrite(STDERR, "ERROR op $i: got " . var_export($got, true) . "\n");
    }
}
$us = (hrtime(true) - $t0) / 1000;
printf("ops=%d errors=%d elapsed_us=%d us_per_op=%.3f\n", $count, $errors, $us, $us / $count);
exit($errors ? 1 : 0);
