// net.connect, one exchange, socket.end() per op (libuv: shutdown(SHUT_WR),
// then it waits for the server's FIN through epoll). Modes: redis (SET then
// GET of a per-op value), line (tagserver: REQ tag -> REP tag connid).
// A FIN that takes longer than --wait-ms fails the run: the event loop
// must never wait for an EOF objpool owes it.
// Prints "ok=N mismatches=N errors=N slow=N conns=LIST".
'use strict';
const net = require('net');
const [mode, port, count, waitMs] = [process.argv[2], +process.argv[3], +process.argv[4], +(process.argv[5] || 1000)];
let ok = 0, bad = 0, err = 0, slow = 0;
const conns = new Set();

function exchange(i) {
    return new Promise((resolve) => {
        const s = net.connect(port, '127.0.0.1');
        let buf = '', step = 0, endedAt = 0, done = false;
        const val = `v${i}-` + 'y'.repeat(i % 40);
        const finish = (what) => {
            if (done) return;
            done = true;
            clearTimeout(timer);
            if (what === 'ok') ok++; else if (what === 'bad') bad++; else if (what === 'slow') slow++; else err++;
            s.destroy();
            resolve();
        };
        const timer = setTimeout(() => finish(endedAt ? 'slow' : 'err'), waitMs + 2000);
        s.on('error', () => finish('err'));
        s.on('connect', () => {
            if (mode === 'redis') s.write(`*3\r\n$3\r\nSET\r\n$${`k${i}`.length}\r\nk${i}\r\n$${val.length}\r\n${val}\r\n`);
            else s.write(`REQ t${i}\n`);
        });
        s.on('data', (d) => {
            buf += d.toString('latin1');
            if (mode === 'redis' && step === 0 && buf === '+OK\r\n') {
                step = 1; buf = '';
                s.write(`*2\r\n$3\r\nGET\r\n$${`k${i}`.length}\r\nk${i}\r\n`);
            } else if (mode === 'redis' && step === 1 && buf.endsWith('\r\n') && buf.length >= val.length + 5) {
                if (buf !== `$${val.length}\r\n${val}\r\n`) return finish('bad');
                step = 2; endedAt = Date.now(); s.end();
            } else if (mode === 'line' && step === 0 && buf.endsWith('\n')) {
                const m = /^REP t(\d+) (\d+)\n$/.exec(buf);
                if (!m || +m[1] !== i) return finish('bad');
                conns.add(m[2]);
                step = 2; endedAt = Date.now(); s.end();
            }
        });
        s.on('end', () => {
            if (step !== 2) return finish('err');
            finish(Date.now() - endedAt > waitMs ? 'slow' : 'ok');
        });
    });
}

(async () => {
    for (let i = 0; i < count; i++) await exchange(i);
    console.log(`ok=${ok} mismatches=${bad} errors=${err} slow=${slow} conns=${[...conns].length}`);
    process.exit(bad ? 1 : (err || slow) ? 2 : 0);
})();
