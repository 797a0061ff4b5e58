<?php
// PHP mysqli or PDO (pdo_mysql) per query, for objpool's MySQL/MariaDB tests.
//
//     php my_loop.php API HOST PORT SOCKET USER PASSWORD DB COUNT [ALT_DB]
//
// API: mysqli, pdo, mysqli-stmt, mysqli-stmt-close, pdo-native,
// mysqli-cursor, mysqli-multi or mysqli-change-user (below).
//
// ALT_DB: odd operations connect to ALT_DB instead (each connect then
// differs from the one before; mysqli's thread id is not checked then).
// HOST "localhost" with SOCKET: the Unix socket; HOST 127.0.0.1 with
// PORT: TCP (SOCKET "-"). Operation i: a new connection (mysqli_connect,
// or new PDO with a dsn of its own, both mysqlnd), SELECT i * 2 (a
// prepared statement with PDO's default emulation, i.e. a text query),
// compare (mysqli: and its mysqli_thread_id, the greeting's, against
// CONNECTION_ID()), close (mysqli_close; PDO: the object dropped). Prints "ops=N
// ok=N mismatches=N errors=N" on stdout; exit 1 on a mismatch, 2 on an
// error, else 0.

[$_, $api, $host, $port, $sock, $user, $pw, $db1, $count] = $argv;
$alt = $argv[9] ?? null;
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
    $res = mysqli_query($c, "SELECT $i * 2, CONNECTION_ID(), DATABASE()");
    if (!$res) {
        $e = mysqli_error($c);
        mysqli_close($c);
        throw new Exception("query: $e");
    }
    [$got, $tid, $in] = mysqli_fetch_row($res);
    mysqli_free_result($res);
    $greeted = mysqli_thread_id($c);
    mysqli_close($c);
    if ($in !== $db) {
        return "$got in $in, not $db";
    }
    // a login that went to a fresh connection keeps the greeting's thread id
    return $GLOBALS['alt'] !== null || (int)$tid === $greeted ? $got
        : "$got (CONNECTION_ID() $tid, the greeting's thread id $greeted)";
}

function once_pdo($host, $port, $sock, $user, $pw, $db, $i)
{
    $dsn = $sock !== null ? "mysql:unix_socket=$sock;dbname=$db" : "mysql:host=$host;port=$port;dbname=$db";
    $c = new PDO($dsn, $user, $pw, [PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION]);
    $st = $c->prepare('SELECT ? * 2, DATABASE()');
    $st->execute([$i]);
    [$got, $in] = $st->fetch(PDO::FETCH_NUM);
    $st = null;
    $c = null;
    return $in === $db ? $got : "$got in $in, not $db";
}

// mysqli-stmt: the binary protocol (COM_STMT_PREPARE, COM_STMT_EXECUTE, a
// binary result), the statement left open at close (COM_RESET_CONNECTION
// must drop it); mysqli-stmt-close: the same, the statement closed first
// (COM_STMT_CLOSE); pdo-native: PDO with ATTR_EMULATE_PREPARES off (its
// statement, dropped after the connection object, closes it).
function once_stmt($host, $port, $sock, $user, $pw, $db, $i, $close = false)
{
    $c = @mysqli_connect($host, $user, $pw, $db, $port, $sock);
    if (!$c) {
        throw new Exception("connect: " . mysqli_connect_error());
    }
    $st = mysqli_prepare($c, 'SELECT ? * 2, DATABASE()');
    if (!$st) {
        $e = mysqli_error($c);
        mysqli_close($c);
        throw new Exception("prepare: $e");
    }
    mysqli_stmt_bind_param($st, 'i', $i);
    mysqli_stmt_execute($st);
    mysqli_stmt_bind_result($st, $got, $in);
    mysqli_stmt_fetch($st);
    if ($close) {
        mysqli_stmt_close($st); // COM_STMT_CLOSE, which the server does not answer
    }
    mysqli_close($c);
    return $in === $db ? $got : "$got in $in, not $db";
}

function once_pdo_native($host, $port, $sock, $user, $pw, $db, $i)
{
    $dsn = $sock !== null ? "mysql:unix_socket=$sock;dbname=$db" : "mysql:host=$host;port=$port;dbname=$db";
    $c = new PDO($dsn, $user, $pw, [PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION,
                                     PDO::ATTR_EMULATE_PREPARES => false]);
    $st = $c->prepare('SELECT ? * 2, DATABASE()');
    $st->execute([$i]);
    [$got, $in] = $st->fetch(PDO::FETCH_NUM);
    $c = null; // the statement still held
    return $in === $db ? $got : "$got in $in, not $db";
}

// mysqli-multi: even operations run mysqli_multi_query (mysqlnd turns
// multi-statements on with COM_SET_OPTION, and leaves them on) and read
// every result; odd ones check that their session has them off, as a fresh
// one has: a two-statement mysqli_query must fail (1064).
function once_multi($host, $port, $sock, $user, $pw, $db, $i)
{
    $c = @mysqli_connect($host, $user, $pw, $db, $port, $sock);
    if (!$c) {
        throw new Exception("connect: " . mysqli_connect_error());
    }
    if ($i % 2 === 0) {
        if (!mysqli_multi_query($c, "SELECT $i * 2; SELECT 1")) {
            $e = mysqli_error($c);
            mysqli_close($c);
            throw new Exception("multi_query: $e");
        }
        $got = mysqli_fetch_row(mysqli_store_result($c))[0];
        while (mysqli_more_results($c) && mysqli_next_result($c)) {
            $r = mysqli_store_result($c);
            if ($r) {
                mysqli_free_result($r);
            }
        }
        mysqli_close($c);
        return $got;
    }
    $res = mysqli_query($c, "SELECT $i * 2; SELECT 1");
    $errno = mysqli_errno($c);
    mysqli_close($c);
    return !$res && $errno === 1064 ? 2 * $i : "multi-statements on in a new session (errno $errno)";
}

// mysqli-cursor: even operations open a server-side cursor (a prepared
// statement with MYSQLI_CURSOR_TYPE_READ_ONLY: COM_STMT_FETCH, one row at
// a time), read one row of 100 and close the connection with the cursor
// open; odd ones run a plain query on the next connection.
function once_cursor($host, $port, $sock, $user, $pw, $db, $i)
{
    if ($i % 2) {
        return once_mysqli($host, $port, $sock, $user, $pw, $db, $i);
    }
    $c = @mysqli_connect($host, $user, $pw, $db, $port, $sock);
    if (!$c) {
        throw new Exception("connect: " . mysqli_connect_error());
    }
    $st = mysqli_prepare($c, "SELECT seq + $i FROM seq_1_to_100");
    mysqli_stmt_attr_set($st, MYSQLI_STMT_ATTR_CURSOR_TYPE, MYSQLI_CURSOR_TYPE_READ_ONLY);
    mysqli_stmt_attr_set($st, MYSQLI_STMT_ATTR_PREFETCH_ROWS, 1);
    if (!mysqli_stmt_execute($st)) {
        $e = mysqli_stmt_error($st);
        mysqli_close($c);
        throw new Exception("cursor: $e");
    }
    mysqli_stmt_bind_result($st, $first);
    mysqli_stmt_fetch($st);
    mysqli_close($c);
    return $first === $i + 1 ? 2 * $i : "first row $first, not " . ($i + 1);
}

// mysqli-change-user: connect, check the session is USER's in DB, and on
// every other operation mysqli_change_user (COM_CHANGE_USER) to u_other
// (pw2) in db2 before the query: the next connection must be USER's again.
function once_change_user($host, $port, $sock, $user, $pw, $db, $i)
{
    $c = @mysqli_connect($host, $user, $pw, $db, $port, $sock);
    if (!$c) {
        throw new Exception("connect: " . mysqli_connect_error());
    }
    $want = "$user $db";
    $who = mysqli_fetch_row(mysqli_query($c, "SELECT CONCAT(SUBSTRING_INDEX(USER(), '@', 1), ' ', DATABASE())"))[0];
    if ($who !== $want) {
        mysqli_close($c);
        return "connected as $who, not $want";
    }
    if ($i % 2) {
        if (!mysqli_change_user($c, 'u_other', 'pw2', 'db2')) {
            $e = mysqli_error($c);
            mysqli_close($c);
            throw new Exception("change_user: $e");
        }
    }
    $row = mysqli_fetch_row(mysqli_query($c, "SELECT $i * 2, SUBSTRING_INDEX(USER(), '@', 1), DATABASE()"));
    mysqli_close($c);
    $as = $i % 2 ? 'u_other db2' : $want;
    return "$row[1] $row[2]" === $as ? $row[0] : "$row[0] as $row[1] $row[2], not $as";
}

for ($i = 0; $i < $count; $i++) {
    $db = $alt !== null && $i % 2 ? $alt : $db1;
    try {
        if ($api === 'pdo') {
            $got = once_pdo($host, $port, $sock, $user, $pw, $db, $i);
        } elseif ($api === 'mysqli-stmt' || $api === 'mysqli-stmt-close') {
            $got = once_stmt($host, $port, $sock, $user, $pw, $db, $i, $api === 'mysqli-stmt-close');
        } elseif ($api === 'pdo-native') {
            $got = once_pdo_native($host, $port, $sock, $user, $pw, $db, $i);
        } elseif ($api === 'mysqli-cursor') {
            $got = once_cursor($host, $port, $sock, $user, $pw, $db, $i);
        } elseif ($api === 'mysqli-multi') {
            $got = once_multi($host, $port, $sock, $user, $pw, $db, $i);
        } elseif ($api === 'mysqli-change-user') {
            $got = once_change_user($host, $port, $sock, $user, $pw, $db, $i);
        } else {
            $got = once_mysqli($host, $port, $sock, $user, $pw, $db, $i);
        }
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
