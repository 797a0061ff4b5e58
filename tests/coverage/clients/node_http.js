// http.get({agent: false}) per operation: a connection of its own each time.
'use strict';
const http = require('http');
const cov = require('./cov_common');
const [port, n] = cov.args();

function op(i) {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: cov.path(i), agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { body += d; });
      res.on('end', () => { cov.check(i, `200 ${cov.body(i)}`, `${res.statusCode} ${body}`); resolve(); });
    }).on('error', reject);
  });
}

(async () => {
  for (let i = 0; i < n; i++) await op(i);
  cov.done(n);
})().catch(cov.fail);
