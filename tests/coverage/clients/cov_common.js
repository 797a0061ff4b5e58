// The contract of every coverage client, for the Node ones (see py_common.py):
// argv [ARGS...] PORT N TAG; "ok=N" and exit 0, or the wrong value named and exit 1.
'use strict';
exports.args = () => process.argv.slice(-3).map((a, j) => (j < 2 ? Number(a) : a));
exports.key = (tag, i) => `cov:${tag}:${i}`;
exports.value = (tag, i) => `${tag}-${i}-${'x'.repeat(i % 13)}`;
exports.path = (i) => `/f/cov${i % 10}.txt`;
exports.body = (i) => `coverage file ${i % 10}\n`.repeat(i % 10 + 1);
exports.resp = (...a) => `*${a.length}\r\n` + a.map((s) => `$${Buffer.byteLength(s)}\r\n${s}\r\n`).join('');
exports.check = (i, want, got) => {
  if (want === got) return;
  process.stderr.write(`wrong value at op ${i}: expected ${JSON.stringify(want)}, got ${JSON.stringify(got)}\n`);
  process.exit(1);
};
exports.done = (n) => console.log(`ok=${n}`);
exports.fail = (e) => { process.stderr.write(`${e.stack || e}\n`); process.exit(2); };
