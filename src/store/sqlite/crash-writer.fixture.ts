// Child process for the crash-recovery test: writes as fast as it can and prints each
// acknowledged write as `<revision> <op> <key> <value>` until it is killed.
import { SqliteStore } from './sqlite-store.ts';

const dataDir = process.argv[2];
if (!dataDir) throw new Error('usage: crash-writer.fixture.ts <dataDir>');
const store = await SqliteStore.open({ dataDir });
const revisions = new Map<string, number>();
for (let seq = 0; ; seq++) {
  const key = `/crash/k${seq % 40}`;
  const value = JSON.stringify({ seq, pad: 'x'.repeat(seq % 200) });
  const known = revisions.get(key);
  const op = known === undefined ? 'create' : seq % 7 === 0 ? 'delete' : 'update';
  const kv = op === 'create' ? await store.create(key, value)
    : op === 'delete' ? await store.delete(key, known)
    : await store.update(key, value, known!);
  if (op === 'delete') revisions.delete(key);
  else revisions.set(key, kv.modRevision);
  // Printed only after the write resolved, so every line the parent reads is an acknowledged write.
  process.stdout.write(`${kv.modRevision} ${op} ${key} ${value}\n`);
}
