import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDeclarationDocs, readClientNodeModels } from './client-node-models.ts';

const SAMPLE = `/**
 * Kubernetes
 * No description provided
 */
import { V1Probe } from '../models/V1Probe.js';
/**
* A single application container.
*/
export declare class V1Container {
    /**
    * Container image name. The image\\'s tag is \\"latest\\" by default.
    */
    'image'?: string;
    'livenessProbe'?: V1Probe;
    /**
    * Name of the container.
    */
    'name': string;
    'limits'?: {
        [key: string]: string;
    };
    static readonly attributeTypeMap: Array<{
        name: string;
    }>;
}
`;

test('parseDeclarationDocs reads class and field docs and required markers', () => {
  const docs = parseDeclarationDocs(SAMPLE);
  assert.equal(docs.classDoc, 'A single application container.');
  assert.deepEqual(docs.fields.get('image'), { doc: 'Container image name. The image\'s tag is "latest" by default.', required: false });
  assert.deepEqual(docs.fields.get('livenessProbe'), { doc: undefined, required: false });
  assert.deepEqual(docs.fields.get('name'), { doc: 'Name of the container.', required: true });
  assert.equal(docs.fields.get('limits')?.required, false);
  // Nested members of the static type map are not fields of the model.
  assert.deepEqual([...docs.fields.keys()], ['image', 'livenessProbe', 'name', 'limits']);
});

test('readClientNodeModels reads the installed package', async () => {
  const models = await readClientNodeModels();
  const container = models.get('V1Container');
  assert.ok(container);
  const name = container.attributes.find((a) => a.jsonName === 'name');
  assert.equal(name?.required, true);
  assert.equal(name?.type, 'string');
  // client-node renames `default` to `_default`; the JSON name is kept.
  assert.ok(models.get('V1LimitRangeItem')?.attributes.some((a) => a.jsonName === 'default'));
});
