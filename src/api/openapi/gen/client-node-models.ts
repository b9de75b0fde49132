// Reads the model classes that @kubernetes/client-node generates from the Kubernetes
// OpenAPI spec: the attribute type map from the .js (types and formats) and the JSDoc
// in the .d.ts beside it (descriptions, and which fields are required). Only the
// generator uses this; the server reads the JSON it writes.

import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export interface ModelAttribute {
  /** The JSON field name (client-node renames reserved words, e.g. default → _default). */
  jsonName: string;
  /** client-node's TypeScript-ish type: string, number, Date, Array<V1Container>, { [key: string]: string; }, ... */
  type: string;
  format: string;
  required: boolean;
  description?: string;
}

export interface Model {
  className: string;
  description?: string;
  attributes: ModelAttribute[];
}

interface RawAttribute { name: string; baseName: string; type: string; format: string }

/** Folder of the generated model files inside the installed package. */
export function clientNodeModelsDir(): string {
  const require = createRequire(import.meta.url);
  const pkgJson = require.resolve('@kubernetes/client-node/package.json');
  return join(dirname(pkgJson), 'dist', 'gen', 'models');
}

/** The Kubernetes OpenAPI version the package was generated from, e.g. "v1.34.0". */
export function clientNodeSpecVersion(dir = clientNodeModelsDir()): string {
  const head = readFileSync(join(dir, 'V1Pod.js'), 'utf8').slice(0, 600);
  return /OpenAPI spec version:\s*(\S+)/.exec(head)?.[1] ?? 'unknown';
}

export async function readClientNodeModels(dir = clientNodeModelsDir()): Promise<Map<string, Model>> {
  const models = new Map<string, Model>();
  const files = readdirSync(dir).filter((f) => f.endsWith('.js') && f !== 'all.js' && f !== 'ObjectSerializer.js');
  for (const file of files) {
    const className = file.slice(0, -3);
    const mod = (await import(join(dir, file))) as Record<string, { attributeTypeMap?: RawAttribute[] }>;
    const raw = mod[className]?.attributeTypeMap;
    if (!raw) continue;
    const docs = parseDeclarationDocs(readFileSync(join(dir, `${className}.d.ts`), 'utf8'));
    models.set(className, {
      className,
      description: docs.classDoc,
      attributes: raw.map((a) => ({
        jsonName: a.baseName,
        type: a.type,
        format: a.format,
        required: docs.fields.get(a.name)?.required ?? false,
        description: docs.fields.get(a.name)?.doc,
      })),
    });
  }
  return models;
}

interface DeclarationDocs {
  classDoc?: string;
  fields: Map<string, { doc?: string; required: boolean }>;
}

/**
 * Pulls JSDoc text and optionality out of a generated .d.ts. The layout is fixed by the
 * generator: a doc block, then `export declare class`, then per field an optional doc
 * block followed by `'name'?: Type;` (no `?` means required).
 */
export function parseDeclarationDocs(source: string): DeclarationDocs {
  const fields = new Map<string, { doc?: string; required: boolean }>();
  let classDoc: string | undefined;
  let pending: string | undefined;
  let inDoc = false;
  let docLines: string[] = [];
  for (const line of source.split('\n')) {
    const trimmed = line.trim();
    if (trimmed === '/**') { inDoc = true; docLines = []; continue; }
    if (inDoc) {
      if (trimmed === '*/') { inDoc = false; pending = docLines.join('\n').trim() || undefined; continue; }
      docLines.push(unescapeDoc(trimmed.replace(/^\*\s?/, '')));
      continue;
    }
    if (trimmed.startsWith('export declare class')) { classDoc = pending; pending = undefined; continue; }
    const field = /^'([^']+)'(\??):/.exec(trimmed);
    if (field && line.startsWith('    ') && !line.startsWith('     ')) {
      fields.set(field[1]!, { doc: pending, required: field[2] !== '?' });
      pending = undefined;
      continue;
    }
    if (trimmed !== '') pending = undefined;
  }
  return { classDoc, fields };
}

/** The generator escapes quotes in docs (`image\'s`, `\"TCP\"`). */
function unescapeDoc(text: string): string {
  return text.replace(/\\(['"\\])/g, '$1');
}
