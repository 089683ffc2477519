#!/usr/bin/env node
// Writes the push corpus of benches/push/run.sh: N distinct command-URL
// pushes, each sealed as WeCom seals them, with the official npm package
// @wecom/crypto (tests/interop/node_modules; bash tests/interop/setup.sh
// installs it): encrypt(EncodingAESKey, message, receiveId) with the suite id
// as the receive id, and msg_signature = getSignature(token, timestamp, nonce,
// encrypt).
//
//   node benches/push/corpus.js OUT COUNT TOKEN AES_KEY SUITE_ID CORP_ID TIMESTAMP [FIRST]
//
// writes pushes FIRST (default 0) to FIRST + COUNT - 1; run.sh writes two
// halves at once (one per core) and joins them.
// One push per line, `QUERY<TAB>BODY`:
//   msg_signature=…&timestamp=…&nonce=…<TAB><xml><ToUserName>…</ToUserName><Encrypt>…</Encrypt><AgentID>…</AgentID></xml>
// Each message is a `change_contact` / `create_user` command event (the
// fields WeCom sends a third-party app) with its own UserID, so no two pushes
// decrypt to the same message (the server's replay window would take the
// second for WeCom's retry of the first). Every push carries TIMESTAMP, in
// the query and as the message's TimeStamp. The file is written in chunks: a
// million pushes (about 0.8 GB) never sit in memory.
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const path = require('path');

let wecom;
try {
  wecom = require(path.join(__dirname, '../../tests/interop/node_modules/@wecom/crypto'));
} catch (e) {
  process.stderr.write(`@wecom/crypto is not installed (${e.message}): run bash tests/interop/setup.sh\n`);
  process.exit(3);
}
const { encrypt, getSignature } = wecom;

const [out, countArg, token, aesKey, suiteId, corpId, timestamp, firstArg] = process.argv.slice(2);
const count = Number(countArg);
const first = Number(firstArg || 0);
if (!out || !Number.isInteger(count) || count < 0 || !Number.isInteger(first) || first < 0
    || !token || !aesKey || !suiteId || !corpId || !/^\d+$/.test(timestamp || '')) {
  process.stderr.write('usage: corpus.js OUT COUNT TOKEN AES_KEY SUITE_ID CORP_ID TIMESTAMP [FIRST]\n');
  process.exit(2);
}

function message(i) {
  const user = `bench${i}`;
  return '<xml>'
    + `<SuiteId><![CDATA[${suiteId}]]></SuiteId>`
    + `<AuthCorpId><![CDATA[${corpId}]]></AuthCorpId>`
    + '<InfoType><![CDATA[change_contact]]></InfoType>'
    + `<TimeStamp>${timestamp}</TimeStamp>`
    + '<ChangeType><![CDATA[create_user]]></ChangeType>'
    + `<UserID><![CDATA[${user}]]></UserID>`
    + `<OpenUserID><![CDATA[wo${corpId.slice(2)}${i.toString(36)}]]></OpenUserID>`
    + `<Department><![CDATA[1,${2 + (i % 50)}]]></Department>`
    + '<MainDepartment>1</MainDepartment>'
    + '<IsLeaderInDept><![CDATA[0,0]]></IsLeaderInDept>'
    + '<Position><![CDATA[产品经理]]></Position>'
    + `<Gender>${1 + (i % 2)}</Gender>`
    + `<Alias><![CDATA[${user}]]></Alias>`
    + '</xml>';
}

const fd = fs.openSync(out, 'w');
const CHUNK = 2000;
let lines = [];
// encrypt()'s 16-byte random prefixes, drawn from the CSPRNG a chunk at a time.
let randoms = crypto.randomBytes(16 * CHUNK);
for (let i = first; i < first + count; i += 1) {
  const nonce = String(1000000000 + Math.floor(Math.random() * 9000000000));
  const slot = (i - first) % CHUNK;
  if (slot === 0 && i > first) randoms = crypto.randomBytes(16 * CHUNK);
  const ciphered = encrypt(aesKey, message(i), suiteId, randoms.subarray(16 * slot, 16 * slot + 16));
  const signature = getSignature(token, timestamp, nonce, ciphered);
  lines.push(
    `msg_signature=${signature}&timestamp=${timestamp}&nonce=${nonce}\t`
      + `<xml><ToUserName><![CDATA[${suiteId}]]></ToUserName><Encrypt><![CDATA[${ciphered}]]></Encrypt>`
      + '<AgentID><![CDATA[]]></AgentID></xml>\n',
  );
  if (lines.length === CHUNK) {
    fs.writeSync(fd, lines.join(''));
    lines = [];
  }
}
if (lines.length) fs.writeSync(fd, lines.join(''));
fs.closeSync(fd);
