// http.get({agent: false}) per request (Connection: close, then
// shutdown(SHUT_WR)): request i fetches URL/f/<i % 20> and compares the body
// with the file in WWW. Prints "ok=N mismatches=N errors=N".
'use strict';
const http = require('http');
const fs = require('fs');
const [url, count, www] = [process.argv[2], +process.argv[3], process.argv[4]];
let ok = 0, bad = 0, err = 0;

function get(i) {
    return new Promise((resolve) => {
        const k = i % 20;
        const req = http.get(`${url}/f/${k}`, {agent: false, timeout: 5000}, (res) => {
            const parts = [];
            res.on('data', (d) => parts.push(d));
            res.on('end', () => {
                if (Buffer.concat(parts).equals(fs.readFileSync(`${www}/${k}`))) ok++; else bad++;
                resolve();
            });
            res.on('error', () => { err++; resolve(); });
        });
        req.on('timeout', () => req.destroy(new Error('timeout')));
        req.on('error', () => { err++; resolve(); });
    });
}

(async () => {
    for (let i = 0; i < count; i++) await get(i);
    console.log(`ok=${ok} mismatches=${bad} errors=${err}`);
    process.exit(bad ? 1 : err ? 2 : 0);
})();
