<?php
// phpredis: a new Redis per operation, connect(), SET then GET, close().
require __DIR__ . "/cov_common.php";
[$port, $n, $tag] = cov_args();
for ($i = 0; $i < $n; $i++) {
    $r = new Redis();
    $r->connect("127.0.0.1", $port);
    $r->set(cov_key($tag, $i), cov_value($tag, $i));
    cov_check($i, cov_value($tag, $i), $r->get(cov_key($tag, $i)));
    $r->close();
}
cov_done($n);
