// nftSession (a long-lived `nft -i`) against a real kernel, in a network namespace of the
// test's own: one transaction per script, nft's error on a failed one (and nothing of it
// applied), changes made by another process seen, a dead child replaced, the `nft -f`
// fallback when `nft -i` is refused, close(). Needs root and nft.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { NftError, nftSession } from './nft.ts';

const run = promisify(execFile);
const canRun = process.getuid?.() === 0 && (await run('nft', ['--version']).then(() => true, () => false));
const NS = `sknft${process.pid % 100000}`;
const T = 'ip skiff-nft-test';
const inNs = ['nsenter', `--net=/run/netns/${NS}`];
const nft = async (...args: string[]) => (await run('ip', ['netns', 'exec', NS, 'nft', ...args])).stdout;
const elements = async () => (await nft('list', 'set', ...T.split(' '), 's')).match(/10\.0\.0\.\d+/g)?.sort() ?? [];
/** nft children of this test process (nsenter execs nft, so they are nft). */
const nftChildren = async () => (await run('pgrep', ['-P', String(process.pid), '-x', 'nft']).catch(() => ({ stdout: '' }))).stdout.split('\n').filter(Boolean);

describe('nftSession', { skip: !canRun && 'needs root and nft' }, () => {
  // The first test's session keeps its script file in a directory of this test's own.
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'skiff-nft-test-'));
  before(async () => {
    await run('ip', ['netns', 'del', NS]).catch(() => {});
    await run('ip', ['netns', 'add', NS]);
  });
  after(async () => {
    await run('ip', ['netns', 'del', NS]).catch(() => {});
    rmSync(tmp, { recursive: true, force: true });
  });

  it('applies each script as one transaction and reports a failed one with nothing of it applied', async () => {
    const session = nftSession({ prefix: inNs, tmpDir: tmp });
    try {
      await session(`add table ${T}\nadd set ${T} s { type ipv4_addr ; }\nadd element ${T} s { 10.0.0.1 }\n`);
      assert.deepEqual(await elements(), ['10.0.0.1']);
      assert.equal(readdirSync(tmp).length, 1, 'the script file lives in a directory of its own');
      // The second line fails: the first must not stay applied.
      const bad = `add element ${T} s { 10.0.0.2 }\nadd rule ${T} no-such-chain accept\n`;
      const err = await session(bad).then(() => undefined, (e: unknown) => e);
      assert.ok(err instanceof NftError, String(err));
      assert.match(err.stderr, /No such file or directory/);
      assert.match(err.stderr, /no-such-chain/);
      assert.equal(err.script, bad);
      assert.deepEqual(await elements(), ['10.0.0.1']);
      // A kernel refusal (an element that exists with other data): also reported.
      await session(`add map ${T} m { type inet_service : ipv4_addr ; }\nadd element ${T} m { 80 : 10.0.0.9 }\n`);
      await assert.rejects(session(`add element ${T} m { 80 : 10.0.0.8 }\n`), /File exists/);
      // And the session goes on.
      await session(`delete element ${T} s { 10.0.0.1 }\nadd element ${T} s { 10.0.0.3, 10.0.0.4 }\n`);
      assert.deepEqual(await elements(), ['10.0.0.3', '10.0.0.4']);
    } finally {
      session.close?.();
    }
    await waitFor(async () => (await nftChildren()).length === 0, 'nft -i exits after close()');
    assert.deepEqual(readdirSync(tmp), [], 'close() removes its script directory');
  });

  it('sees what another process changed, and replaces a child that died', async () => {
    const session = nftSession({ prefix: inNs });
    try {
      await session(`add table ${T}\ndelete table ${T}\nadd table ${T}\nadd set ${T} s { type ipv4_addr ; }\n`);
      await session(`add element ${T} s { 10.0.0.5 }\n`); // nft -i now has the table in its cache
      await nft('delete', 'table', ...T.split(' '));
      await assert.rejects(session(`add element ${T} s { 10.0.0.6 }\n`), /No such file or directory/);
      await session(`add table ${T}\nadd set ${T} s { type ipv4_addr ; }\nadd element ${T} s { 10.0.0.6 }\n`);
      assert.deepEqual(await elements(), ['10.0.0.6']);

      const [pid] = await nftChildren();
      assert.ok(pid, 'an nft -i child runs');
      process.kill(Number(pid), 'SIGKILL');
      await waitFor(async () => !(await nftChildren()).includes(pid!), 'the killed nft is gone');
      await session(`add element ${T} s { 10.0.0.7 }\n`);
      assert.deepEqual(await elements(), ['10.0.0.6', '10.0.0.7']);
    } finally {
      session.close?.();
    }
  });

  it('replaces its child every maxRuns scripts without losing one', async () => {
    const session = nftSession({ prefix: inNs, maxRuns: 2 });
    try {
      await session(`add table ${T}\ndelete table ${T}\nadd table ${T}\nadd set ${T} s { type ipv4_addr ; }\n`);
      for (let i = 10; i < 17; i++) await session(`add element ${T} s { 10.0.0.${i} }\n`);
      assert.equal((await elements()).length, 7);
    } finally {
      session.close?.();
    }
  });

  it('falls back to nft -f when nft -i is refused', async () => {
    // A wrapper that fails `nft -i` the way an nft built without its CLI does.
    const refuseCli = ['sh', '-c', `[ "$2" = -i ] && { echo 'nft: interactive CLI not supported' >&2; exit 1; }; shift; exec ${inNs.join(' ')} nft "$@"`, 'sh'];
    const session = nftSession({ prefix: refuseCli });
    try {
      await session(`add table ${T}\ndelete table ${T}\nadd table ${T}\nadd set ${T} s { type ipv4_addr ; }\nadd element ${T} s { 10.0.0.20 }\n`);
      assert.deepEqual(await elements(), ['10.0.0.20']);
      await assert.rejects(session(`add rule ${T} no-such-chain accept\n`), (e: unknown) => e instanceof NftError && /exited with 1/.test(e.message));
    } finally {
      session.close?.();
    }
  });
});

async function waitFor(ok: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await ok()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.fail(`timed out: ${what}`);
}
