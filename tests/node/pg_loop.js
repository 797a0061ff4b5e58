// pg_loop.js - a Node program that makes a new node-postgres Client for
// every query, as a request handler that does not share a pool would:
// new Client(), connect(), query('SELECT $1::int AS n', [i]) (the extended
// protocol: Parse/Bind/Describe/Execute/Sync), a simple query, then end().
// `--mode state` instead checks that what one client set is not visible to
// the next (a SET, search_path, a temp table, a named prepared statement),
// then sets them all itself. Connection: --host (a directory for the Unix
// socket, or 127.0.0.1), --port, --user, --password.
// end() writes Terminate, half-closes and waits for the server's close; a
// client whose end() has not finished after --end-wait ms (100) is counted
// in end_waits and its socket destroyed (the close a program would fall
// back to), so one run measures both.
// Prints "ops=N ok=N mismatches=N errors=N end_waits=N elapsed_us=N".
'use strict';
const {Client} = require('pg');

function arg(name, dflt) {
    const i = process.argv.indexOf('--' + name);
    return i >= 0 ? process.argv[i + 1] : dflt;
}
const config = {
    host: arg('host'),
    port: Number(arg('port')),
    user: arg('user'),
    database: 'postgres',
    password: arg('password'),
};
const count = Number(arg('count', '100'));
const mode = arg('mode', 'query');
const endWait = Number(arg('end-wait', '100'));
let endWaits = 0;

// end(), or destroy() when the server's close has not come within endWait.
async function finish(c) {
    let timer;
    const waited = new Promise((resolve) => {
        timer = setTimeout(() => resolve(true), endWait);
    });
    if (await Promise.race([c.end().then(() => false), waited])) {
        endWaits++;
        c.connection.stream.destroy();
    }
    clearTimeout(timer);
}

// One client, one query (twice: extended then simple); true if both right.
async function queryOp(i) {
    const c = new Client(config);
    c.on('error', () => {});
    await c.connect();
    try {
        const ext = await c.query('SELECT $1::int AS n', [i]);
        const simple = await c.query('SELECT ' + (i + 1) + ' AS m, current_user AS u');
        const row = simple.rows[0];
        const ok = ext.rows[0].n === i && row.m === i + 1 && row.u === config.user;
        if (!ok) console.error('MISMATCH op ' + i + ': ' + JSON.stringify([ext.rows, simple.rows]));
        return ok;
    } finally {
        await finish(c);
    }
}

// What a fresh session shows before any SET, learned by the first client.
let fresh = null;

// One client: the session must look fresh (nothing an earlier client set),
// then this client leaves state of its own behind.
async function stateOp(i) {
    const c = new Client(config);
    c.on('error', () => {});
    await c.connect();
    try {
        const r = await c.query(
            "SELECT current_setting('work_mem') AS wm, current_setting('search_path') AS sp, " +
            "to_regclass('pg_temp.node_t') IS NULL AS no_temp, " +
            "(SELECT count(*) FROM pg_prepared_statements)::int AS prepared");
        const seen = r.rows[0];
        if (!fresh) fresh = {wm: seen.wm, sp: seen.sp};
        // a named statement: Parse fails if one of that name crossed over
        const named = await c.query({name: 'node_p', text: 'SELECT $1::int + 1 AS n', values: [i]});
        const ok = seen.wm === fresh.wm && seen.sp === fresh.sp && seen.wm !== '7MB' &&
            seen.no_temp === true && seen.prepared === 0 && named.rows[0].n === i + 1;
        if (!ok) console.error('MISMATCH op ' + i + ': ' + JSON.stringify(seen));
        await c.query("SET work_mem = '7MB'");
        await c.query('SET search_path = pg_catalog');
        await c.query('CREATE TEMP TABLE node_t (x int)');
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
            if (await (mode === 'state' ? stateOp(i) : queryOp(i))) ok++;
            else mismatches++;
        } catch (e) {
            errors++;
            console.error('ERROR op ' + i + ': ' + e);
        }
    }
    const us = Number((process.hrtime.bigint() - t0) / 1000n);
    console.log('ops=' + count + ' ok=' + ok + ' mismatches=' + mismatches + ' errors=' + errors +
        ' end_waits=' + endWaits + ' elapsed_us=' + us);
}

main().then(() => process.exit(0), (e) => {
    console.error(e);
    process.exit(1);
});
