// Flag values every command parses the same way. Kept apart from the commands so that
// `skiff agent` or `skiff kubectl` do not load the server to read a port.
import os from 'node:os';
import path from 'node:path';

/** root: /var/lib/skiff (as k3s uses /var/lib/rancher/k3s); anyone else: ~/.skiff. */
export function defaultDataDir(): string {
  return process.getuid?.() === 0 ? '/var/lib/skiff' : path.join(os.homedir(), '.skiff');
}

export function parsePort(flag: string, text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n > 65535) throw new Error(`${flag}: invalid port ${text}`);
  return n;
}

/** Go-style durations as Kubernetes flags take them: 40s, 2m, 1m30s, 500ms. */
export function parseDuration(flag: string, text: string): number {
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  if (!parts.length || parts.map((p) => p[0]).join('') !== text) throw new Error(`${flag}: invalid duration "${text}" (e.g. 40s, 2m)`);
  return parts.reduce((ms, p) => ms + Number(p[1]) * units[p[2]], 0);
}
