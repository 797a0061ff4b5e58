<?php
// The sockets extension (sockets.so, loaded with RTLD_DEEPBIND) as a Redis
// client, for objpool's tests.
//
//     php sockets_loop.php PORT COUNT
//
// Operation i: socket_create, socket_connect, SET key "sockets_<i>" to a
// value unique to the run and i, GET it back and compare, socket_close.
// Prints "ops=N ok=N mismatches=N errors=N"; exit 1 on a mismatch, 2 on an
// error, else 0.

$port = (int)$argv[1];
$count = (int)$argv[2];
$run = getmypid() . "." . hrtime(true);
$ok = $mismatches = $errors = 0;

// One RESP command, written whole; its reply, read until complete.
function command($s, array $args, $want)
{
    $out = "*" . count($args) . "\r\n";
    foreach ($args as $a) {
        $out .= "\$" . strlen($a) . "\r\n" . $a . "\r\n";
    }
    if (socket_write($s, $out) !== strlen($out)) {
        return false;
    }
    $got = "";
    while (strlen($got) < strlen($want)) {
        $r = socket_read($s, 4096);
        if ($r === false || $r === "") {
            return false;
        }
        $got .= $r;
    }
    return $got;
}

for ($i = 0; $i < $count; $i++) {
    $key = "sockets_$i";
    $val = "$run-$i";
    $s = socket_create(AF_INET, SOCK_STREAM, SOL_TCP);
    if ($s === false || !socket_connect($s, "127.0.0.1", $port)) {
        $errors++;
        fwrite(STDERR, "ERROR op $i: connect\n");
        continue;
    }
    $want = "\$" . strlen($val) . "\r\n" . $val . "\r\n";
    $set = command($s, ["SET", $key, $val], "+OK\r\n");
    $got = $set === "+OK\r\n" ? command($s, ["GET", $key], $want) : false;
    socket_close($s);
    if ($got === $want) {
        $ok++;
    } elseif ($got === false) {
        $errors++;
        fwrite(STDERR, "ERROR op $i: SET/GET failed\n");
    } else {
        $mismatches++;
        fwrite(STDERR, "MISMATCH op $i: expected '$val' got '$got'\n");
    }
}
echo "ops=$count ok=$ok mismatches=$mismatches errors=$errors\n";
exit($mismatches ? 1 : ($errors ? 2 : 0));
