<?php
// file_get_contents('http://...') per request (HTTP/1.1, Connection: close):
// request i fetches URL/f/<i % K>; prints "ok=N mismatches=N errors=N".
[$url, $count, $www] = [$argv[1], (int)$argv[2], $argv[3]];
$ctx = stream_context_create(['http' => ['protocol_version' => '1.1']]);
$ok = $bad = $err = 0;
for ($i = 0; $i < $count; $i++) {
    $k = $i % 20;
    $body = @file_get_contents("$url/f/$k", false, $ctx);
    if ($body === false) { $err++; continue; }
    if ($body === file_get_contents("$www/$k")) $ok++; else $bad++;
}
echo "ok=$ok mismatches=$bad errors=$err\n";
exit($bad ? 1 : ($err ? 2 : 0));
