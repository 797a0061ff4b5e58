// my_loop.js - a Node program that makes a new mysqljs connection (Debian's
// node-mysql, require('mysql'); --module mysql2: mysql2's same API) for
// every query, as a request handler that does not share a pool would:
// createConnection(), connect(), query('SELECT ? * 2 AS n, CONNECTION_ID()
// AS id, DATABASE() AS db', [i]), end(). Checks the value, the database and
// that the greeting's thread id (threadId) is CONNECTION_ID().
// --alt-database DB: odd operations connect to DB instead (each connect
// then differs from the one before; the thread id is not checked).
// `--mode auth`: each operation connects with the right password (must
// work), then with a wrong one (must fail at once: the server's access
// denied, or a failed connect; never a session).
// A connect still unfinished after --connect-wait ms (5000) is an error,
// counted in hangs too.
// `--mode state` instead checks that what one connection left (a user
// variable, a temporary table, sql_mode) is not visible to the next, and
// that the sql_mode the handshake asks for (mysqljs and mysql2 both say
// CLIENT_IGNORE_SPACE) is there (COUNT (*) with a space parses), then
// leaves them itself. Connection: --socket PATH, or --host and --port;
// --user, --password, --database.
// end() writes COM_QUIT and waits for the server's close; a connection
// whose end() has not finished after --end-wait ms (2000) is counted in
// end_waits and its socket destroyed (the close a program would fall back
// to), so one run measures both.
// Prints "ops=N ok=N mismatches=N errors=N end_waits=N hangs=N elapsed_us=N".
'use strict';
function arg(name, dflt) {
    const i = process.argv.indexOf('--' + name);
    return i >= 0 ? process.argv[i + 1] : dflt;
}
const mysql = require(arg('module', 'mysql'));
const config = {
    user: arg('user'),
    password: arg('password'),
    database: arg('database'),
    connectTimeout: 10000,
};
if (arg('socket')) config.socketPath = arg('socket');
else {
    config.host = arg('host');
    config.port = Number(arg('port'));
}
const altDatabase = arg('alt-database');
const count = Number(arg('count', '100'));
const mode = arg('mode', 'query');
const endWait = Number(arg('end-wait', '2000'));
let endWaits = 0;

const connectWait = Number(arg('connect-wait', '5000'));
let hangs = 0;

// A connection, or the server's refusal; a connect that has not finished
// after --connect-wait ms (5000) throws instead of waiting on.
function connect(database, password) {
    const over = {};
    if (database) over.database = database;
    if (password !== undefined) over.password = password;
    const c = mysql.createConnection(Object.assign({}, config, over));
    c.on('error', () => {});
    return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
            c.destroy();
            hangs++;
            const e = new Error('connect did not finish in ' + connectWait + ' ms');
            e.code = 'HANG';
            reject(e);
        }, connectWait);
        c.connect((e) => {
            clearTimeout(timer);
            if (e) reject(e);
            else resolve(c);
        });
    });
}

// The right password (must work), then a wrong one (must be refused).
async function authOp(i) {
    const c = await connect(undefined, config.password);
    const rows = await query(c, 'SELECT ? * 2 AS n', [i]);
    await finish(c);
    let refused = null;
    try {
        const w = await connect(undefined, 'wrong');
        await finish(w);
    } catch (e) {
        refused = e;
    }
    // refused at once, however: the server's access denied, or a connect
    // that failed (never a session, never a hang)
    if (!refused || refused.code === 'HANG') {
        console.error('MISMATCH op ' + i + ': a wrong password ' + (refused ? 'gave ' + refused : 'was admitted'));
        return false;
    }
    if (refused.code !== 'ER_ACCESS_DENIED_ERROR') console.error('op ' + i + ': a wrong password: ' + refused);
    return rows[0].n === 2 * i;
}

function query(c, sql, values) {
    return new Promise((resolve, reject) =>
        c.query(sql, values, (e, rows) => (e ? reject(e) : resolve(rows))));
}

// end(), or destroy() when the server's close has not come within endWait.
async function finish(c) {
    let timer;
    const waited = new Promise((resolve) => {
        timer = setTimeout(() => resolve(true), endWait);
    });
    const ended = new Promise((resolve) => c.end(() => resolve(false)));
    if (await Promise.race([ended, waited])) {
        endWaits++;
        c.destroy();
    }
    clearTimeout(timer);
}

async function queryOp(i) {
    const db = altDatabase && i % 2 ? altDatabase : config.database;
    const c = await connect(db);
    try {
        const rows = await query(c, 'SELECT ? * 2 AS n, CONNECTION_ID() AS id, DATABASE() AS db', [i]);
        // a login that went to a fresh connection keeps the greeting's thread id
        const ok = rows[0].n === 2 * i && rows[0].db === db && (altDatabase || rows[0].id === c.threadId);
        if (!ok) console.error('MISMATCH op ' + i + ': ' + JSON.stringify(rows) + ', threadId ' + c.threadId);
        return ok;
    } finally {
        await finish(c);
    }
}

// What a fresh session's sql_mode is (IGNORE_SPACE, asked for in the
// handshake), learned by the first connection.
let freshMode = null;

// One connection: the session must look fresh, then it leaves state behind.
async function stateOp(i) {
    const c = await connect();
    try {
        // COUNT (*), a space before the parenthesis: right only under IGNORE_SPACE
        const rows = await query(c, 'SELECT @node_leak IS NULL AS no_var, @@session.sql_mode AS mode, ' +
            'COUNT (*) AS n FROM information_schema.schemata WHERE schema_name = DATABASE()');
        let noTemp = false;
        try {
            await query(c, 'SELECT COUNT(*) FROM node_tmp');
        } catch (e) {
            noTemp = e.errno === 1146;
        }
        const seen = rows[0];
        if (freshMode === null) freshMode = seen.mode;
        const ok = seen.no_var === 1 && seen.mode === freshMode && seen.mode.includes('IGNORE_SPACE') &&
            !seen.mode.includes('ANSI_QUOTES') && seen.n === 1 && noTemp;
        if (!ok) console.error('MISMATCH op ' + i + ': ' + JSON.stringify(seen) + ' no temp table: ' + noTemp);
        await query(c, 'SET @node_leak = ?', [i]);
        await query(c, "SET SESSION sql_mode = 'ANSI_QUOTES'");
        await query(c, 'CREATE TEMPORARY TABLE node_tmp (x INT)');
        return ok;
    } finally {
        await finish(c);
    }
}

async function main() {
    let ok = 0, mismatches = 0, errors = 0;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < count; i++) {
        try {
            if (await (mode === 'state' ? stateOp(i) : mode === 'auth' ? authOp(i) : queryOp(i))) ok++;
            else mismatches++;
        } catch (e) {
            errors++;
            if (errors <= 5) console.error('ERROR op ' + i + ': ' + e);
        }
    }
    const us = Number((process.hrtime.bigint() - t0) / 1000n);
    console.log('ops=' + count + ' ok=' + ok + ' mismatches=' + mismatches + ' errors=' + errors +
        ' end_waits=' + endWaits + ' hangs=' + hangs + ' elapsed_us=' + us);
}

main().then(() => process.exit(0), (e) => {
    console.error(e);
    process.exit(1);
});
