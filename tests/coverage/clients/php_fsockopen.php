<?php
// fsockopen(): a stream per operation speaking memcached's text protocol
// (set then get), fclose().
require __DIR__ . "/cov_common.php";
[$port, $n, $tag] = cov_args();
for ($i = 0; $i < $n; $i++) {
    $s = fsockopen("127.0.0.1", $port, $errno, $errstr, 5);
    if (!$s) { fwrite(STDERR, "connect: $errstr\n"); exit(2); }
    $k = cov_key($tag, $i);
    $v = cov_value($tag, $i);
    fwrite($s, "set $k 0 0 " . strlen($v) . "\r\n$v\r\n");
    cov_check($i, "STORED\r\n", fgets($s));
    fwrite($s, "get $k\r\n");
    cov_check($i, "VALUE $k 0 " . strlen($v) . "\r\n", fgets($s));
    cov_check($i, "$v\r\n", fgets($s));
    cov_check($i, "END\r\n", fgets($s));
    fclose($s);
}
cov_done($n);
