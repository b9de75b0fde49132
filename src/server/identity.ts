// Who this server is among several on one datastore: `<node name>-<8 hex>`, the suffix made
// once and kept in DATA_DIR/server-id. Servers on one machine share a host name (the
// default node name), so the name alone would let two of them believe they hold the
// controllers' Lease; the kept suffix lets a restarted server take its own Lease back at once.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { readFileIfExists, writeFileAtomic } from '../apiserver/pki/atomic-file.ts';

export async function serverIdentity(dataDir: string, nodeName: string): Promise<string> {
  const file = join(dataDir, 'server-id');
  let id = (await readFileIfExists(file))?.trim();
  if (!id || !/^[0-9a-f]{8}$/.test(id)) {
    id = randomBytes(4).toString('hex');
    await writeFileAtomic(file, `${id}\n`, 0o644);
  }
  return `${nodeName}-${id}`;
}
