// --token-auth-file: kube-apiserver's static token file, a CSV of
// `token,user,uid[,"group1,group2"]` (blank lines ignored). Read once at start, as in
// Kubernetes; every user is also in system:authenticated.
import { readFileSync } from 'node:fs';
import { AUTHENTICATED_GROUP, type UserInfo } from './types.ts';

/** Splits one CSV line: commas separate fields except inside double quotes ("" is a quote). */
function csvFields(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') { cur += '"'; i++; } else if (c === '"') quoted = false; else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { out.push(cur); cur = ''; } else cur += c;
  }
  if (quoted) throw new Error('unterminated quote');
  out.push(cur);
  return out.map((f) => f.trim());
}

export function parseTokenFile(text: string, source: string): Map<string, UserInfo> {
  const tokens = new Map<string, UserInfo>();
  text.split(/\r?\n/).forEach((raw, i) => {
    if (!raw.trim()) return;
    let f: string[];
    try {
      f = csvFields(raw);
    } catch (err) {
      throw new Error(`${source}:${i + 1}: ${(err as Error).message}`);
    }
    const [token, name, uid, groups] = f;
    if (f.length < 3 || !token || !name) throw new Error(`${source}:${i + 1}: expected token,user,uid[,"group1,group2"]`);
    if (tokens.has(token)) throw new Error(`${source}:${i + 1}: duplicate token`);
    const list = (groups ?? '').split(',').map((g) => g.trim()).filter(Boolean);
    tokens.set(token, { name, ...(uid ? { uid } : {}), groups: [...new Set([...list, AUTHENTICATED_GROUP])] });
  });
  return tokens;
}

export function readTokenFile(file: string): Map<string, UserInfo> {
  return parseTokenFile(readFileSync(file, 'utf8'), file);
}
