<?php
// php-memcached (libmemcached): a new Memcached per operation, set then
// get, dropped (libmemcached sends "quit" as it frees the connection).
require __DIR__ . "/cov_common.php";
[$port, $n, $tag] = cov_args();
for ($i = 0; $i < $n; $i++) {
    $m = new Memcached();
    $m->addServer("127.0.0.1", $port);
    if (!$m->set(cov_key($tag, $i), cov_value($tag, $i))) {
        fwrite(STDERR, "set failed at op $i: " . $m->getResultMessage() . "\n");
        exit(2);
    }
    cov_check($i, cov_value($tag, $i), $m->get(cov_key($tag, $i)));
    unset($m);
}
cov_done($n);
