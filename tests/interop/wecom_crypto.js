#!/usr/bin/env node
// A command-line peer around the official npm package @wecom/crypto (pinned in
// package.json beside this file; install it with tests/interop/setup.sh).
// tests/interop.rs drives it to check our WXBizMsgCrypt against it.
//
//   encrypt <token> <aesKey> <receiveId> <timestamp> <nonce> <message> [randomHex]
//       -> {"encrypt": "...", "msg_signature": "..."}
//       randomHex (32 hex digits) is the 16-byte random prefix; omitted, the
//       package draws one itself.
//   decrypt <token> <aesKey> <msgSignature> <timestamp> <nonce> <encrypt> [receiveId]
//       -> {"message": "...", "receive_id": "..."} after checking the signature
//       (exit 1, "-40001 ..." on stderr, when it does not match) and, when
//       receiveId is given, the receive id (-40005).
//   batch
//       -> many encrypt/decrypt requests in one process: each stdin line is a
//       JSON array ["encrypt" | "decrypt", ...arguments], each stdout line the
//       answer's JSON or {"error": "<code> <text>"}.
//   jsapi-signature <ticket> <noncestr> <timestamp> <url>
//       -> the JS-SDK signature, one line
//   bench <seconds>
//       -> {"ops_per_sec": N, ...}: signature check + decrypt of a 1 KiB message
//       in a loop on one core.
'use strict';

let wecom;
try {
  wecom = require('@wecom/crypto');
} catch (e) {
  process.stderr.write(`@wecom/crypto is not installed (${e.message}): run tests/interop/setup.sh\n`);
  process.exit(3);
}
const { getSignature, encrypt, decrypt, getJsApiSignature } = wecom;

class PeerError extends Error {
  constructor(code, text) {
    super(`${code} ${text}`);
    this.code = code;
  }
}

function fail(code, text) {
  process.stderr.write(`${code} ${text}\n`);
  process.exit(1);
}

function usage() {
  process.stderr.write(
    'usage: wecom_crypto.js encrypt <token> <aesKey> <receiveId> <timestamp> <nonce> <message> [randomHex]\n'
      + '       wecom_crypto.js decrypt <token> <aesKey> <msgSignature> <timestamp> <nonce> <encrypt> [receiveId]\n'
      + '       wecom_crypto.js batch   (JSON lines on stdin: ["encrypt", ...] or ["decrypt", ...])\n'
      + '       wecom_crypto.js jsapi-signature <ticket> <noncestr> <timestamp> <url>\n'
      + '       wecom_crypto.js bench <seconds>\n',
  );
  process.exit(2);
}

function doEncrypt(args) {
  if (args.length !== 6 && args.length !== 7) throw new PeerError(2, 'encrypt takes 6 or 7 arguments');
  const [token, aesKey, receiveId, timestamp, nonce, message, randomHex] = args;
  let random;
  if (randomHex !== undefined) {
    if (!/^[0-9a-fA-F]{32}$/.test(randomHex)) throw new PeerError(-40006, 'randomHex must be 32 hex digits');
    random = Buffer.from(randomHex, 'hex');
  }
  let ciphered;
  try {
    ciphered = encrypt(aesKey, message, receiveId, random);
  } catch (e) {
    throw new PeerError(-40006, `EncryptAESError: ${e.message}`);
  }
  return { encrypt: ciphered, msg_signature: getSignature(token, timestamp, nonce, ciphered) };
}

function doDecrypt(args) {
  if (args.length !== 6 && args.length !== 7) throw new PeerError(2, 'decrypt takes 6 or 7 arguments');
  const [token, aesKey, msgSignature, timestamp, nonce, ciphered, receiveId] = args;
  if (getSignature(token, timestamp, nonce, ciphered) !== msgSignature) {
    throw new PeerError(-40001, 'ValidateSignatureError: msg_signature does not match');
  }
  let out;
  try {
    out = decrypt(aesKey, ciphered);
  } catch (e) {
    throw new PeerError(-40007, `DecryptAESError: ${e.message}`);
  }
  if (receiveId !== undefined && out.id !== receiveId) {
    throw new PeerError(-40005, `ValidateCorpidError: receive id ${JSON.stringify(out.id)} is not ${JSON.stringify(receiveId)}`);
  }
  return { message: out.message, receive_id: out.id };
}

const OPS = { encrypt: doEncrypt, decrypt: doDecrypt };

// One subcommand from the command line: its JSON on stdout, or the error on
// stderr and exit 1.
function single(op, args) {
  let out;
  try {
    out = op(args);
  } catch (e) {
    if (!(e instanceof PeerError)) throw e;
    if (e.code === 2) usage();
    fail(e.code, e.message.slice(String(e.code).length + 1));
  }
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

// Many requests in one process (saves a start-up per message): each stdin
// line is a JSON array ["encrypt" | "decrypt", ...the subcommand's
// arguments]; each answer is one stdout line, the subcommand's JSON or
// {"error": "<code> <text>"}.
function batch() {
  const lines = require('fs').readFileSync(0, 'utf8').split('\n').filter((l) => l.length > 0);
  const out = lines.map((line) => {
    const [name, ...args] = JSON.parse(line);
    const op = OPS[name];
    if (!op) return { error: `2 unknown request ${JSON.stringify(name)}` };
    try {
      return op(args);
    } catch (e) {
      if (!(e instanceof PeerError)) throw e;
      return { error: e.message };
    }
  });
  process.stdout.write(out.map((o) => `${JSON.stringify(o)}\n`).join(''));
}

function cmdJsapi(args) {
  if (args.length !== 4) usage();
  const [ticket, nonceStr, timestamp, url] = args;
  process.stdout.write(`${getJsApiSignature({ ticket, nonceStr, timestamp, url }).signature}\n`);
}

function cmdBench(args) {
  if (args.length !== 1) usage();
  const seconds = Number(args[0]);
  if (!(seconds > 0)) usage();
  const token = 'QDG6eK';
  const aesKey = 'jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C';
  const receiveId = 'ww1436e0e65a779aee';
  const timestamp = '1409659813';
  const nonce = '1372623149';
  const head = '<xml><Content><![CDATA[';
  const tail = ']]></Content></xml>';
  const message = head + 'x'.repeat(1024 - head.length - tail.length) + tail;
  if (Buffer.byteLength(message) !== 1024) throw new Error('bench message is not 1 KiB');
  const ciphered = encrypt(aesKey, message, receiveId);
  const signature = getSignature(token, timestamp, nonce, ciphered);
  const once = () => {
    if (getSignature(token, timestamp, nonce, ciphered) !== signature) throw new Error('signature');
    const out = decrypt(aesKey, ciphered);
    if (out.id !== receiveId || out.message.length !== 1024) throw new Error('decrypt');
  };
  // Warm up the JIT, then count whole batches until the time is up.
  const warmEnd = process.hrtime.bigint() + 200_000_000n;
  while (process.hrtime.bigint() < warmEnd) once();
  const budget = BigInt(Math.round(seconds * 1e9));
  const start = process.hrtime.bigint();
  let ops = 0;
  let elapsed = 0n;
  do {
    for (let i = 0; i < 256; i += 1) once();
    ops += 256;
    elapsed = process.hrtime.bigint() - start;
  } while (elapsed < budget);
  const secs = Number(elapsed) / 1e9;
  process.stdout.write(`${JSON.stringify({
    ops_per_sec: Math.round(ops / secs),
    ops,
    seconds: Number(secs.toFixed(3)),
    message_bytes: 1024,
    node: process.version,
    package: '@wecom/crypto@' + require('@wecom/crypto/package.json').version,
  })}\n`);
}

const [cmd, ...rest] = process.argv.slice(2);
switch (cmd) {
  case 'encrypt': single(doEncrypt, rest); break;
  case 'decrypt': single(doDecrypt, rest); break;
  case 'batch': if (rest.length) usage(); batch(); break;
  case 'jsapi-signature': cmdJsapi(rest); break;
  case 'bench': cmdBench(rest); break;
  default: usage();
}
