// registries.yaml (k3s's format: mirrors and per-registry TLS/auth) read from disk. The
// YAML parser is loaded only when there is a file to read: most agents have none.
import { readFileSync } from 'node:fs';
import type { RegistriesConfig } from './config.ts';

/** The file's contents; undefined when it is absent and not required. */
export async function loadRegistries(file: string, required: boolean): Promise<RegistriesConfig | undefined> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (!required && (err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`cannot read registries file ${file}: ${(err as Error).message}`);
  }
  const { default: YAML } = await import('yaml');
  const parsed = YAML.parse(text) ?? {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error(`${file}: expected a mapping with "mirrors" and/or "configs"`);
  return parsed as RegistriesConfig;
}
