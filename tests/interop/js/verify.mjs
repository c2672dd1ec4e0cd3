#!/usr/bin/env node
// Independent TUF client check for conclave's test suite, built on tuf-js.
//
// usage: node verify.mjs METADATA_DIR --target PATH [--target PATH ...]
//                        [--root FILE] [--artifacts DIR]
//
// METADATA_DIR is a TUF repository in consistent-snapshot layout
// (1.root.json, 2.root.json, ..., timestamp.json, N.snapshot.json,
// N.targets.json, N.<role>.json). A real tuf-js Updater is pointed at a fake
// base URL whose reads are served from METADATA_DIR by a local fetcher (no
// HTTP server). The trust anchor is METADATA_DIR/1.root.json unless --root is
// given. The updater then does the full client workflow: root chain,
// timestamp, snapshot, targets, and for each --target a delegation walk.
// With --artifacts DIR each found target's DIR/PATH is also checked against
// the length and hashes that the metadata gives for it.
//
// Prints one "ok: ..." line per check and exits 0, or "error: ..." and exits 1.
// tuf-js checks expiry against the current time.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { Updater, BaseFetcher } = require('tuf-js');
// Not re-exported from the package index, but the Updater's root loop only
// stops cleanly on a DownloadHTTPError with status 403/404 from this module.
const { DownloadHTTPError } = require('tuf-js/dist/error');
const tufPkg = require('tuf-js/package.json');

const BASE_URL = 'http://conclave.invalid/metadata/';

class UsageError extends Error {}

function parseArgs(argv) {
  const opts = { metadataDir: undefined, targets: [], root: undefined, artifacts: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new UsageError(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--target') opts.targets.push(value());
    else if (a === '--root') opts.root = value();
    else if (a === '--artifacts') opts.artifacts = value();
    else if (a === '-h' || a === '--help') {
      process.stdout.write(
        'usage: node verify.mjs METADATA_DIR --target PATH [--target PATH ...] [--root FILE] [--artifacts DIR]\n',
      );
      process.exit(0);
    } else if (a.startsWith('-')) throw new UsageError(`unknown option ${a}`);
    else if (opts.metadataDir === undefined) opts.metadataDir = a;
    else throw new UsageError(`unexpected argument ${a}`);
  }
  if (opts.metadataDir === undefined) throw new UsageError('METADATA_DIR is required');
  if (opts.targets.length === 0) throw new UsageError('at least one --target PATH is required');
  return opts;
}

// Serves fetches of BASE_URL/<name> from a local directory. A file that is
// not there is reported as HTTP 404, as a static web server would.
class DirectoryFetcher extends BaseFetcher {
  constructor(dir) {
    super();
    this.dir = dir;
    this.fetched = [];
  }

  async fetch(url) {
    if (!url.startsWith(BASE_URL)) {
      throw new DownloadHTTPError(`unexpected URL ${url}`, 404);
    }
    const encoded = url.slice(BASE_URL.length);
    if (encoded.includes('/') || encoded.includes('?') || encoded.includes('#')) {
      throw new DownloadHTTPError(`unexpected URL ${url}`, 404);
    }
    // tuf-js URL-encodes role names with encodeURIComponent. On disk a role
    // name may be stored as is, encoded the same way, or encoded as
    // python-tuf does (urllib.parse.quote(name, safe=''), which also escapes
    // !'()*). Try those in turn.
    let decoded;
    try {
      decoded = decodeURIComponent(encoded);
    } catch {
      decoded = undefined;
    }
    const candidates = [];
    for (const name of [
      decoded,
      encoded,
      decoded === undefined ? undefined : pythonQuote(decoded),
    ]) {
      if (name !== undefined && isPlainFileName(name) && !candidates.includes(name)) {
        candidates.push(name);
      }
    }
    for (const name of candidates) {
      const file = path.join(this.dir, name);
      let data;
      try {
        data = fs.readFileSync(file);
      } catch (err) {
        if (err.code === 'ENOENT' || err.code === 'ENOTDIR') continue;
        throw err;
      }
      this.fetched.push(name);
      return new ReadableStream({
        start(controller) {
          controller.enqueue(new Uint8Array(data));
          controller.close();
        },
      });
    }
    throw new DownloadHTTPError(`not found: ${encoded}`, 404);
  }
}

function pythonQuote(name) {
  return encodeURIComponent(name).replace(
    /[!'()*]/g,
    (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase(),
  );
}

function isPlainFileName(name) {
  return (
    name.length > 0 &&
    name !== '.' &&
    name !== '..' &&
    !name.includes('/') &&
    !name.includes('\\') &&
    !name.includes('\0')
  );
}

function readVersion(file) {
  return JSON.parse(fs.readFileSync(file, 'utf8')).signed.version;
}

// The role whose trusted metadata holds exactly this TargetFile object.
// getTargetInfo returns the object from the role where the walk stopped.
function roleHolding(updater, info) {
  const set = updater.trustedSet && updater.trustedSet.trustedSet;
  if (!set) return undefined;
  for (const [name, md] of Object.entries(set)) {
    const targets = md && md.signed && md.signed.targets;
    if (targets && targets[info.path] === info) return name;
  }
  return undefined;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const metadataDir = path.resolve(opts.metadataDir);
  if (!fs.statSync(metadataDir, { throwIfNoEntry: false })?.isDirectory()) {
    throw new Error(`${opts.metadataDir} is not a directory`);
  }
  const anchor = opts.root ? path.resolve(opts.root) : path.join(metadataDir, '1.root.json');

  const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'conclave-tufjs-'));
  try {
    fs.copyFileSync(anchor, path.join(cacheDir, 'root.json'));
    const anchorVersion = readVersion(anchor);

    const fetcher = new DirectoryFetcher(metadataDir);
    const updater = new Updater({
      metadataDir: cacheDir,
      metadataBaseUrl: BASE_URL,
      fetcher,
    });
    console.log(`ok: tuf-js ${tufPkg.version} trusts ${path.basename(anchor)} (root version ${anchorVersion})`);

    await updater.refresh();
    const read = (name) => readVersion(path.join(cacheDir, `${name}.json`));
    console.log(`ok: root chain to version ${read('root')}`);
    console.log(`ok: timestamp version ${read('timestamp')}`);
    console.log(`ok: snapshot version ${read('snapshot')}`);
    console.log(`ok: targets version ${read('targets')}`);

    for (const target of opts.targets) {
      const info = await updater.getTargetInfo(target);
      if (!info) {
        throw new Error(`target ${target} not found in any trusted role`);
      }
      const role = roleHolding(updater, info) ?? '(unknown role)';
      const hashes = Object.entries(info.hashes)
        .map(([alg, h]) => `${alg}:${h}`)
        .join(' ');
      console.log(`ok: target ${target} found in role ${role} (length ${info.length}, ${hashes})`);
      if (opts.artifacts) {
        const file = path.join(path.resolve(opts.artifacts), target);
        await info.verify(fs.createReadStream(file));
        console.log(`ok: artifact ${file} matches length and hashes of ${target}`);
      }
    }
  } finally {
    fs.rmSync(cacheDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    const name = err && err.constructor && err.constructor.name;
    const msg = err instanceof Error ? err.message : String(err);
    const prefix = name && name !== 'Error' && !(err instanceof UsageError) ? `${name}: ` : '';
    console.log(`error: ${prefix}${msg}`);
    process.exit(1);
  },
);
