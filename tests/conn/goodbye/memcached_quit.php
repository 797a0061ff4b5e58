<?php
// new Memcached() per op: set, get, quit (libmemcached writes "quit\r\n",
// then shuts the socket down); prints "ok=N mismatches=N errors=N".
[$port, $count] = [(int)$argv[1], (int)$argv[2]];
$ok = $bad = $err = 0;
for ($i = 0; $i < $count; $i++) {
    $m = new Memcached();
    $m->addServer('127.0.0.1', $port);
    $v = "value-$i-" . str_repeat('z', $i % 50);
    if (!$m->set("gb:$i", $v)) { $err++; $m->quit(); continue; }
    $got = $m->get("gb:$i");
    $m->quit();
    if ($got === false) $err++; elseif ($got === $v) $ok++; else $bad++;
}
echo "ok=$ok mismatches=$bad errors=$err\n";
exit($bad ? 1 : ($err ? 2 : 0));
