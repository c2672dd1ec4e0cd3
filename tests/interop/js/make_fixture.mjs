#!/usr/bin/env node
// Builds a small signed TUF repository, as a self-test fixture for verify.mjs.
// It does not use tuf-js: keys, canonical JSON and signatures come from
// Node's crypto and the code below, so verify.mjs is checked against an
// independent writer.
//
// usage: node make_fixture.mjs OUT_DIR [--key-type ed25519|ecdsa]
//          [--layout listed|succinct] [--claimed-paths JSON_ARRAY]
//          [--demo-role NAME] [--omit-terminating] [--expires ISO8601]
//
// Writes OUT_DIR/metadata/ (consistent-snapshot layout: 1.root.json,
// 2.root.json, timestamp.json, 1.snapshot.json, 1.targets.json,
// 1.claimed.json, 1.<demo role>.json or 1.<bin>.json) and
// OUT_DIR/artifacts/demo/demo-1.0.tar.gz, and prints the target path.
//
// Layout "listed": targets -> claimed (paths from --claimed-paths, default
// ["*/*"], terminating) -> demo role (paths ["demo/*"], terminating), which
// lists demo/demo-1.0.tar.gz. Layout "succinct": claimed delegates with TAP 15
// succinct_roles (bit_length 2, name_prefix "demo-bins") instead, and the bin
// the target hashes to lists it; all four bins are written.
// Root is rotated from v1 to v2 (new root key; v2 signed by old and new key).

import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

const TARGET = 'demo/demo-1.0.tar.gz';
const TARGET_BYTES = Buffer.from('conclave demo artifact 1.0\n', 'utf8');

function usage(msg) {
  if (msg) console.error(`make_fixture: ${msg}`);
  console.error(
    'usage: node make_fixture.mjs OUT_DIR [--key-type ed25519|ecdsa] [--layout listed|succinct]\n' +
      '         [--claimed-paths JSON_ARRAY] [--demo-role NAME] [--omit-terminating] [--expires ISO8601]',
  );
  process.exit(2);
}

function parseArgs(argv) {
  const o = {
    out: undefined,
    keyType: 'ed25519',
    layout: 'listed',
    claimedPaths: ['*/*'],
    demoRole: 'demo',
    omitTerminating: false,
    expires: '2100-01-01T00:00:00Z',
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => (i + 1 < argv.length ? argv[++i] : usage(`${a} needs a value`));
    if (a === '--key-type') o.keyType = value();
    else if (a === '--layout') o.layout = value();
    else if (a === '--claimed-paths') o.claimedPaths = JSON.parse(value());
    else if (a === '--demo-role') o.demoRole = value();
    else if (a === '--omit-terminating') o.omitTerminating = true;
    else if (a === '--expires') o.expires = value();
    else if (a.startsWith('-')) usage(`unknown option ${a}`);
    else if (o.out === undefined) o.out = a;
    else usage(`unexpected argument ${a}`);
  }
  if (!o.out) usage('OUT_DIR is required');
  if (!['ed25519', 'ecdsa'].includes(o.keyType)) usage('--key-type must be ed25519 or ecdsa');
  if (!['listed', 'succinct'].includes(o.layout)) usage('--layout must be listed or succinct');
  return o;
}

// --- canonical JSON (securesystemslib / OLPC dialect) -----------------------

function compareCodePoints(a, b) {
  const ca = Array.from(a, (c) => c.codePointAt(0));
  const cb = Array.from(b, (c) => c.codePointAt(0));
  for (let i = 0; i < Math.min(ca.length, cb.length); i++) {
    if (ca[i] !== cb[i]) return ca[i] - cb[i];
  }
  return ca.length - cb.length;
}

function cjString(s) {
  return '"' + s.replace(/\\/g, '\\\\').replace(/"/g, '\\"') + '"';
}

function canonical(v) {
  if (v === null) return 'null';
  if (v === true) return 'true';
  if (v === false) return 'false';
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new Error(`canonical JSON: non-integer ${v}`);
    return String(v);
  }
  if (typeof v === 'string') return cjString(v);
  if (Array.isArray(v)) return '[' + v.map(canonical).join(',') + ']';
  if (typeof v === 'object') {
    const keys = Object.keys(v).sort(compareCodePoints);
    return '{' + keys.map((k) => cjString(k) + ':' + canonical(v[k])).join(',') + '}';
  }
  throw new Error(`canonical JSON: cannot encode ${typeof v}`);
}

const sha256hex = (buf) => crypto.createHash('sha256').update(buf).digest('hex');

// --- keys ------------------------------------------------------------------

function newKey(keyType) {
  if (keyType === 'ed25519') {
    const { publicKey, privateKey } = crypto.generateKeyPairSync('ed25519');
    const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x, 'base64url');
    const pub = { keytype: 'ed25519', scheme: 'ed25519', keyval: { public: raw.toString('hex') } };
    return finishKey(pub, (data) => crypto.sign(null, data, privateKey));
  }
  const { publicKey, privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pem = publicKey.export({ format: 'pem', type: 'spki' });
  const pub = { keytype: 'ecdsa', scheme: 'ecdsa-sha2-nistp256', keyval: { public: pem } };
  // DER-encoded (r, s), as securesystemslib and python-tuf produce.
  return finishKey(pub, (data) => crypto.sign('sha256', data, privateKey));
}

function finishKey(pub, sign) {
  return { keyid: sha256hex(Buffer.from(canonical(pub), 'utf8')), pub, sign };
}

function keysObject(keys) {
  return Object.fromEntries(keys.map((k) => [k.keyid, k.pub]));
}

// --- metadata ----------------------------------------------------------------

function signMetadata(signed, signers) {
  const bytes = Buffer.from(canonical(signed), 'utf8');
  const signatures = signers.map((k) => ({ keyid: k.keyid, sig: k.sign(bytes).toString('hex') }));
  return { signatures, signed };
}

function main() {
  const o = parseArgs(process.argv.slice(2));
  const mdDir = path.join(o.out, 'metadata');
  const artDir = path.join(o.out, 'artifacts', 'demo');
  fs.mkdirSync(mdDir, { recursive: true });
  fs.mkdirSync(artDir, { recursive: true });
  fs.writeFileSync(path.join(o.out, 'artifacts', TARGET), TARGET_BYTES);

  const k = {
    root1: newKey(o.keyType),
    root2: newKey(o.keyType),
    targets: newKey(o.keyType),
    snapshot: newKey(o.keyType),
    timestamp: newKey(o.keyType),
    claimed: newKey(o.keyType),
    demo: newKey(o.keyType),
  };
  const common = (type, version) => ({ _type: type, spec_version: '1.0.31', version, expires: o.expires });
  const role = (key) => ({ keyids: [key.keyid], threshold: 1 });
  const written = {};
  const write = (name, md) => {
    // Pretty-printed on disk: clients must verify over canonical bytes of
    // "signed", not over the file's bytes.
    const bytes = Buffer.from(JSON.stringify(md, null, 1) + '\n', 'utf8');
    fs.writeFileSync(path.join(mdDir, name), bytes);
    written[name] = bytes;
    return bytes;
  };
  const delegated = (name, key, paths) => {
    const r = { name, keyids: [key.keyid], threshold: 1, paths };
    if (!o.omitTerminating) r.terminating = true;
    return r;
  };

  const rootRoles = (rootKey) => ({
    root: role(rootKey),
    targets: role(k.targets),
    snapshot: role(k.snapshot),
    timestamp: role(k.timestamp),
  });
  const root1 = {
    ...common('root', 1),
    consistent_snapshot: true,
    keys: keysObject([k.root1, k.targets, k.snapshot, k.timestamp]),
    roles: rootRoles(k.root1),
  };
  write('1.root.json', signMetadata(root1, [k.root1]));
  const root2 = {
    ...common('root', 2),
    consistent_snapshot: true,
    keys: keysObject([k.root2, k.targets, k.snapshot, k.timestamp]),
    roles: rootRoles(k.root2),
  };
  write('2.root.json', signMetadata(root2, [k.root1, k.root2]));

  const targetFile = { length: TARGET_BYTES.length, hashes: { sha256: sha256hex(TARGET_BYTES) } };
  const snapshotMeta = {};
  const writeTargets = (name, signed, signer) => {
    // Role names are URL-encoded in file names, as python-tuf's
    // repository side does (quote(name, safe='')).
    const fileName = encodeURIComponent(name).replace(
      /[!'()*]/g,
      (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase(),
    );
    write(`1.${fileName}.json`, signMetadata(signed, [signer]));
    snapshotMeta[`${name}.json`] = { version: 1 };
  };

  writeTargets(
    'targets',
    {
      ...common('targets', 1),
      targets: {},
      delegations: { keys: keysObject([k.claimed]), roles: [delegated('claimed', k.claimed, o.claimedPaths)] },
    },
    k.targets,
  );

  let holder;
  if (o.layout === 'listed') {
    holder = o.demoRole;
    writeTargets(
      'claimed',
      {
        ...common('targets', 1),
        targets: {},
        delegations: { keys: keysObject([k.demo]), roles: [delegated(o.demoRole, k.demo, ['demo/*'])] },
      },
      k.claimed,
    );
    writeTargets(o.demoRole, { ...common('targets', 1), targets: { [TARGET]: targetFile } }, k.demo);
  } else {
    const bitLength = 2;
    const prefix = 'demo-bins';
    writeTargets(
      'claimed',
      {
        ...common('targets', 1),
        targets: {},
        delegations: {
          keys: keysObject([k.demo]),
          succinct_roles: { keyids: [k.demo.keyid], threshold: 1, bit_length: bitLength, name_prefix: prefix },
        },
      },
      k.claimed,
    );
    const hashPrefix = crypto.createHash('sha256').update(TARGET).digest().readUInt32BE(0);
    const bin = hashPrefix >>> (32 - bitLength);
    const suffixLen = ((1 << bitLength) - 1).toString(16).length;
    for (let i = 0; i < 1 << bitLength; i++) {
      const name = `${prefix}-${i.toString(16).padStart(suffixLen, '0')}`;
      const targets = i === bin ? { [TARGET]: targetFile } : {};
      if (i === bin) holder = name;
      writeTargets(name, { ...common('targets', 1), targets }, k.demo);
    }
  }

  write('1.snapshot.json', signMetadata({ ...common('snapshot', 1), meta: snapshotMeta }, [k.snapshot]));
  const snap = written['1.snapshot.json'];
  write(
    'timestamp.json',
    signMetadata(
      {
        ...common('timestamp', 1),
        meta: { 'snapshot.json': { version: 1, length: snap.length, hashes: { sha256: sha256hex(snap) } } },
      },
      [k.timestamp],
    ),
  );

  console.log(`${TARGET}\t${holder}`);
}

main();
