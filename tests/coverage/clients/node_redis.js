// node-redis (npm "redis", installed by the runner under build/): a
// createClient per operation, connect, SET then GET, quit().
'use strict';
const { createClient } = require('redis');
const cov = require('./cov_common');
const [port, n, tag] = cov.args();

(async () => {
  for (let i = 0; i < n; i++) {
    const c = createClient({ socket: { host: '127.0.0.1', port } });
    c.on('error', cov.fail);
    await c.connect();
    await c.set(cov.key(tag, i), cov.value(tag, i));
    cov.check(i, cov.value(tag, i), await c.get(cov.key(tag, i)));
    await c.quit();
  }
  cov.done(n);
})().catch(cov.fail);
