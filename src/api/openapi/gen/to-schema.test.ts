import { test } from 'node:test';
import assert from 'node:assert/strict';
import { modelToSchema, typeSchema } from './to-schema.ts';

const ctx = { names: new Map([['V1Container', 'io.k8s.api.core.v1.Container']]) };

test('typeSchema maps client-node types to OpenAPI', () => {
  assert.deepEqual(typeSchema('number', 'int32', ctx), { format: 'int32', type: 'integer' });
  assert.deepEqual(typeSchema('number', 'double', ctx), { format: 'double', type: 'number' });
  assert.deepEqual(typeSchema('Array<V1Container>', '', ctx), { items: { $ref: '#/components/schemas/io.k8s.api.core.v1.Container' }, type: 'array' });
  assert.deepEqual(typeSchema('{ [key: string]: string; }', 'byte', ctx), { additionalProperties: { format: 'byte', type: 'string' }, type: 'object' });
  assert.deepEqual(typeSchema('Date', 'date-time', ctx), { $ref: '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Time' });
  assert.deepEqual(typeSchema('IntOrString', 'int-or-string', ctx), { $ref: '#/components/schemas/io.k8s.apimachinery.pkg.util.intstr.IntOrString' });
  assert.throws(() => typeSchema('V1Unknown', '', ctx), /no definition name/);
});

test('modelToSchema marks quantities, required fields and descriptions', () => {
  const schema = modelToSchema({
    className: 'V1ResourceRequirements',
    description: 'Compute resources.',
    attributes: [
      { jsonName: 'limits', type: '{ [key: string]: string; }', format: '', required: false, description: 'Limits.' },
      { jsonName: 'name', type: 'string', format: '', required: true },
    ],
  }, ctx);
  assert.equal(schema.description, 'Compute resources.');
  assert.deepEqual(schema.required, ['name']);
  const limits = (schema.properties as Record<string, Record<string, unknown>>).limits!;
  assert.equal(limits.description, 'Limits.');
  assert.deepEqual(limits.additionalProperties, { $ref: '#/components/schemas/io.k8s.apimachinery.pkg.api.resource.Quantity' });
});
