// net: a net.Socket per operation speaking RESP to Redis (SET then GET),
// then, as the first argument says, socket.destroy() (closed at once) or
// socket.end() (a FIN first; closed when the server's FIN comes back).
'use strict';
const net = require('net');
const cov = require('./cov_common');
const [port, n, tag] = cov.args();
const how = process.argv[2];

function op(i) {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    const k = cov.key(tag, i), v = cov.value(tag, i);
    const want = `+OK\r\n$${v.length}\r\n${v}\r\n`;
    let got = '';
    s.setEncoding('utf8');
    s.on('error', reject);
    s.on('connect', () => s.write(cov.resp('SET', k, v) + cov.resp('GET', k)));
    s.on('data', (d) => {
      got += d;
      if (got.length < want.length) return;
      cov.check(i, want, got);
      if (how === 'end') {
        s.on('close', resolve);
        s.end();
      } else {
        s.destroy();
        resolve();
      }
    });
  });
}

(async () => {
  for (let i = 0; i < n; i++) await op(i);
  cov.done(n);
})().catch(cov.fail);
