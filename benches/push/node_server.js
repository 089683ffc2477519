#!/usr/bin/env node
// The yardstick of benches/push/run.sh: what a minimal production callback
// endpoint does with the official npm package @wecom/crypto, on Node's own
// `http` (one process, one thread):
//   POST /callback/command/SUITE_ID?msg_signature=…&timestamp=…&nonce=…
//   read the body, take <Encrypt> out of it, check msg_signature with
//   getSignature(token, timestamp, nonce, encrypt), decrypt(aesKey, encrypt),
//   check the receive id is the suite id, answer `success`.
// A bad signature, a body without <Encrypt>, or a ciphertext that does not
// decrypt is refused with 400. It keeps nothing: no replay window, no
// timestamp window, no store, and it does not parse the decrypted message.
// GET /healthz answers `ok`.
//
//   node benches/push/node_server.js PORT TOKEN AES_KEY SUITE_ID
//
// PORT 0 takes a free port; the first stdout line is
// `listening on http://127.0.0.1:PORT`.
'use strict';

const http = require('http');
const path = require('path');

let wecom;
try {
  wecom = require(path.join(__dirname, '../../tests/interop/node_modules/@wecom/crypto'));
} catch (e) {
  process.stderr.write(`@wecom/crypto is not installed (${e.message}): run bash tests/interop/setup.sh\n`);
  process.exit(3);
}
const { getSignature, decrypt } = wecom;

const [portArg, token, aesKey, suiteId] = process.argv.slice(2);
if (portArg === undefined || !token || !aesKey || !suiteId) {
  process.stderr.write('usage: node_server.js PORT TOKEN AES_KEY SUITE_ID\n');
  process.exit(2);
}

const COMMAND_PATH = `/callback/command/${suiteId}`;
const MAX_BODY = 1 << 20;
const ENCRYPT = /<Encrypt><!\[CDATA\[([^\]]*)\]\]><\/Encrypt>/;

function answer(res, status, text) {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function push(req, res, query) {
  const chunks = [];
  let size = 0;
  let refused = false;
  req.on('data', (chunk) => {
    size += chunk.length;
    if (size > MAX_BODY && !refused) {
      refused = true;
      answer(res, 413, 'body too large');
    } else if (!refused) {
      chunks.push(chunk);
    }
  });
  req.on('end', () => {
    if (refused) return;
    const found = ENCRYPT.exec(Buffer.concat(chunks).toString('utf8'));
    const signature = query.get('msg_signature');
    const timestamp = query.get('timestamp');
    const nonce = query.get('nonce');
    if (!found || !signature || !timestamp || !nonce) {
      answer(res, 400, 'msg_signature, timestamp, nonce and <Encrypt> are required');
      return;
    }
    const ciphered = found[1];
    if (getSignature(token, timestamp, nonce, ciphered) !== signature) {
      answer(res, 400, 'bad signature');
      return;
    }
    let opened;
    try {
      opened = decrypt(aesKey, ciphered);
    } catch (e) {
      answer(res, 400, 'does not decrypt');
      return;
    }
    if (opened.id !== suiteId) {
      answer(res, 400, 'wrong receive id');
      return;
    }
    answer(res, 200, 'success');
  });
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://127.0.0.1');
  if (req.method === 'POST' && url.pathname === COMMAND_PATH) {
    push(req, res, url.searchParams);
  } else if (req.method === 'GET' && url.pathname === '/healthz') {
    answer(res, 200, 'ok');
  } else {
    req.resume();
    answer(res, 404, 'not found');
  }
});
// wrk keeps its connections open for the whole phase.
server.keepAliveTimeout = 60_000;
server.listen(Number(portArg), '127.0.0.1', () => {
  process.stdout.write(`listening on http://127.0.0.1:${server.address().port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
