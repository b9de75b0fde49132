import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openBootstrapData, sealBootstrapData, WrongTokenError, type BootstrapData } from './bootstrap-data.ts';

const data: BootstrapData = {
  caCertPem: 'CERT', caKeyPem: 'KEY', serviceAccountKeyPem: 'SA', encryptionConfig: '{"kind":"EncryptionConfiguration"}',
  clusterCidr: '10.42.0.0/16', serviceCidr: '10.43.0.0/16', clusterDns: '10.43.0.10',
};

test('sealed bootstrap data opens with the same secret and hides its contents', async () => {
  const sealed = await sealBootstrapData(data, 'secret-1');
  assert.ok(!sealed.includes('KEY') && !sealed.includes('10.42.0.0'), 'nothing readable in the stored text');
  assert.deepEqual(await openBootstrapData(sealed, 'secret-1'), data);
  // A new salt and IV every time: two seals of the same data differ.
  assert.notEqual(await sealBootstrapData(data, 'secret-1'), sealed);
});

test('a wrong secret or a tampered envelope is refused with WrongTokenError', async () => {
  const sealed = await sealBootstrapData(data, 'secret-1');
  await assert.rejects(openBootstrapData(sealed, 'secret-2'), WrongTokenError);
  const env = JSON.parse(sealed);
  env.kdf.N = 8192; // parameters are authenticated
  await assert.rejects(openBootstrapData(JSON.stringify(env), 'secret-1'), WrongTokenError);
  await assert.rejects(openBootstrapData('not json', 'secret-1'), /not JSON/);
});
