<?php
// PHP mysqli or PDO (pdo_mysql) per query, for objpool's MySQL/MariaDB tests.
//
//     php my_loop.php mysqli|pdo HOST PORT SOCKET USER PASSWORD DB COUNT
//
// HOST "localhost" with SOCKET: the Unix socket; HOST 127.0.0.1 with
// PORT: TCP (SOCKET "-"). Operation i: a new connection (mysqli_connect,
// or new PDO with a dsn of its own, both mysqlnd), SELECT i * 2 (a
// prepared statement with PDO's default emulation, i.e. a text query),
// compare (mysqli: and its mysqli_thread_id, the greeting's, against
// CONNECTION_ID()), close (mysqli_close; PDO: the object dropped). Prints "ops=N
// ok=N mismatches=N errors=N" on stdout; exit 1 on a mismatch, 2 on an
// error, else 0.

[$_, $api, $host, $port, $sock, $user, $pw, $db, $count] = $argv;
$port = (int)$port;
$count = (int)$count;
$sock = $sock === '-' ? null : $sock;
mysqli_report(MYSQLI_REPORT_OFF);
$ok = $mismatches = $errors = 0;

function once_mysqli($host, $port, $sock, $user, $pw, $db, $i)
{
    $c = @mysqli_connect($host, $user, $pw, $db, $port, $sock);
    if (!$c) {
        throw new Exception("connect: " . mysqli_connect_error());
    }
    $res = mysqli_query($c, "SELECT $i * 2, CONNECTION_ID()");
    if (!$res) {
        $e = mysqli_error($c);
        mysqli_close($c);
        throw new Exception("query: $e");
    }
    [$got, $tid] = mysqli_fetch_row($res);
    mysqli_free_result($res);
    $greeted = mysqli_thread_id($c);
    mysqli_close($c);
    return (int)$tid === $greeted ? $got : "$got (CONNECTION_ID() $tid, the greeting's thread id $greeted)";
}

function once_pdo($host, $port, $sock, $user, $pw, $db, $i)
{
    $dsn = $sock !== null ? "mysql:unix_socket=$sock;dbname=$db" : "mysql:host=$host;port=$port;dbname=$db";
    $c = new PDO($dsn, $user, $pw, [PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION]);
    $st = $c->prepare('SELECT ? * 2');
    $st->execute([$i]);
    $got = $st->fetchColumn();
    $st = null;
    $c = null;
    return $got;
}

for ($i = 0; $i < $count; $i++) {
    try {
        $got = $api === 'pdo' ? once_pdo($host, $port, $sock, $user, $pw, $db, $i)
                              : once_mysqli($host, $port, $sock, $user, $pw, $db, $i);
    } catch (Exception $e) {
        $errors++;
        if ($errors <= 5) {
            fwrite(STDERR, "ERROR op $i: " . $e->getMessage() . "\n");
        }
        continue;
    }
    if (is_numeric($got) && (int)$got === 2 * $i) {
        $ok++;
    } else {
        $mismatches++;
        fwrite(STDERR, "MISMATCH op $i: $got\n");
    }
}
echo "ops=$count ok=$ok mismatches=$mismatches errors=$errors\n";
exit($mismatches ? 1 : ($errors ? 2 : 0));
