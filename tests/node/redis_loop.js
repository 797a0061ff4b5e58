// redis_loop.js - a Node program that opens a new connection to redis for
// every operation, as a new user's code would: `--mode net` a net.Socket
// per op (SET then GET of the op's own value, then destroy()), `--mode
// redis` a node-redis createClient per op (connect, SET, GET, then
// disconnect(), or quit() with `--close quit`), or
// `--mode shared` one node-redis client for every op (the benchmark's
// reference). Prints "ops=N ok=N mismatches=N errors=N elapsed_us=N".
'use strict';
const net = require('net');

function arg(name, dflt) {
    const i = process.argv.indexOf('--' + name);
    return i >= 0 ? process.argv[i + 1] : dflt;
}
const port = Number(arg('port'));
const count = Number(arg('count', '100'));
const mode = arg('mode', 'net');
const tag = arg('tag', String(process.pid));
const close = arg('close', 'disconnect'); // node-redis: disconnect() or quit()
const noInfo = process.argv.includes('--no-client-info'); // node-redis: no CLIENT SETINFO

// One reply of the RESP protocol at the start of buf: [value, rest] or null.
function reply(buf) {
    const eol = buf.indexOf('\r\n');
    if (eol < 0) return null;
    const head = buf.slice(0, eol).toString();
    if (head[0] !== '$') return [head, buf.slice(eol + 2)];
    const n = Number(head.slice(1));
    if (n < 0) return [null, buf.slice(eol + 2)];
    if (buf.length < eol + 2 + n + 2) return null;
    return [buf.slice(eol + 2, eol + 2 + n).toString(), buf.slice(eol + 4 + n)];
}

function cmd(...words) {
    return '*' + words.length + '\r\n' + words.map((w) => '$' + Buffer.byteLength(w) + '\r\n' + w + '\r\n').join('');
}

// SET key value, GET key over a fresh socket; destroy() it after the reply.
function netOp(key, value) {
    return new Promise((resolve, reject) => {
        const s = net.connect({port, host: '127.0.0.1'});
        let buf = Buffer.alloc(0);
        const got = [];
        s.on('connect', () => s.write(cmd('SET', key, value) + cmd('GET', key)));
        s.on('data', (d) => {
            buf = Buffer.concat([buf, d]);
            let r;
            while ((r = reply(buf))) {
                got.push(r[0]);
                buf = r[1];
            }
            if (got.length === 2) {
                s.destroy();
                resolve(got[1]);
            }
        });
        s.on('error', reject);
    });
}

let redisLib = null;
function loadRedis() {
    if (!redisLib) redisLib = require('redis');
    return redisLib;
}

async function redisOp(key, value) {
    const c = loadRedis().createClient({socket: {host: '127.0.0.1', port}, disableClientInfo: noInfo});
    c.on('error', () => {});
    await c.connect();
    await c.set(key, value);
    const v = await c.get(key);
    if (close === 'quit') await c.quit(); // QUIT: the server closes
    else await c.disconnect();
    return v;
}

async function main() {
    let ok = 0, mismatches = 0, errors = 0;
    let shared = null;
    if (mode === 'shared') {
        shared = loadRedis().createClient({socket: {host: '127.0.0.1', port}});
        await shared.connect();
    }
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < count; i++) {
        const key = 'node:' + tag + ':' + i;
        const value = 'v' + i + ':' + 'x'.repeat(i % 50);
        try {
            let got;
            if (mode === 'net') got = await netOp(key, value);
            else if (mode === 'redis') got = await redisOp(key, value);
            else {
                await shared.set(key, value);
                got = await shared.get(key);
            }
            if (got === value) ok++;
            else {
                mismatches++;
                console.error('MISMATCH op ' + i + ': expected ' + value + ' got ' + got);
            }
        } catch (e) {
            errors++;
            console.error('ERROR op ' + i + ': ' + e);
        }
    }
    const us = Number((process.hrtime.bigint() - t0) / 1000n);
    if (shared) await shared.quit();
    console.log('ops=' + count + ' ok=' + ok + ' mismatches=' + mismatches + ' errors=' + errors + ' elapsed_us=' + us);
}

main().then(() => process.exit(0), (e) => {
    console.error(e);
    process.exit(1);
});
