<?php
// file_get_contents("http://...") per operation (PHP's http stream wrapper,
// its defaults).
require __DIR__ . "/cov_common.php";
[$port, $n, $tag] = cov_args();
for ($i = 0; $i < $n; $i++) {
    $got = file_get_contents("http://127.0.0.1:$port" . cov_path($i));
    cov_check($i, cov_body($i), $got);
}
cov_done($n);
