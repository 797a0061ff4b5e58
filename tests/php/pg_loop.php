<?php
// PHP pg_connect per query, for objpool's PostgreSQL tests.
//
//     php pg_loop.php CONNINFO COUNT
//
// Operation i: pg_connect (PGSQL_CONNECT_FORCE_NEW: its own connection),
// SELECT i * 2, compare, pg_close. Prints "ops=N ok=N mismatches=N
// errors=N" on stdout; exit 1 on a mismatch, 2 on an error, else 0.

$conninfo = $argv[1];
$count = (int)$argv[2];
$ok = $mismatches = $errors = 0;
for ($i = 0; $i < $count; $i++) {
    $c = @pg_connect($conninfo, PGSQL_CONNECT_FORCE_NEW);
    if (!$c) {
        $errors++;
        fwrite(STDERR, "ERROR op $i: connect failed\n");
        continue;
    }
    $res = @pg_query_params($c, 'SELECT $1::int * 2', array($i));
    if (!$res) {
        $errors++;
        fwrite(STDERR, "ERROR op $i: " . pg_last_error($c) . "\n");
        pg_close($c);
        continue;
    }
    $got = pg_fetch_result($res, 0, 0);
    pg_close($c);
    if ((int)$got === 2 * $i) {
        $ok++;
    } else {
        $mismatches++;
        fwrite(STDERR, "MISMATCH op $i: $got\n");
    }
}
echo "ops=$count ok=$ok mismatches=$mismatches errors=$errors\n";
exit($mismatches ? 1 : ($errors ? 2 : 0));
