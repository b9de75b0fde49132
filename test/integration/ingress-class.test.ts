// The IngressClass `skiff` exists from the start and is the default: an Ingress naming no
// class gets it (DefaultIngressClass admission); one naming a class, or the old
// annotation, keeps what it says.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type TestServer } from '../helpers/cluster.ts';

let s: TestServer;
before(async () => { s = await startServer(); });
after(async () => { await s?.stop(); });

test('an Ingress without a class gets the default class skiff', async () => {
  assert.match(await s.kubectlOk(['get', 'ingressclass']), /skiff\s+skiff\.io\/ingress/);
  await s.kubectlOk(['create', 'ingress', 'plain', '--rule=a.example.test/=web:80']);
  assert.equal((await s.kubectlOk(['get', 'ingress', 'plain', '-o', 'jsonpath={.spec.ingressClassName}'])).trim(), 'skiff');
  await s.kubectlOk(['create', 'ingress', 'other', '--class=nginx', '--rule=b.example.test/=web:80']);
  assert.equal((await s.kubectlOk(['get', 'ingress', 'other', '-o', 'jsonpath={.spec.ingressClassName}'])).trim(), 'nginx');
  await s.kubectlOk(['apply', '-f', '-'], { input: `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: { name: legacy, annotations: { kubernetes.io/ingress.class: traefik } }
spec: { defaultBackend: { service: { name: web, port: { number: 80 } } } }
` });
  assert.equal((await s.kubectlOk(['get', 'ingress', 'legacy', '-o', 'jsonpath={.spec.ingressClassName}'])).trim(), '');
  // Without a default class, nothing is filled in.
  await s.kubectlOk(['annotate', 'ingressclass', 'skiff', 'ingressclass.kubernetes.io/is-default-class-']);
  await s.kubectlOk(['create', 'ingress', 'later', '--rule=c.example.test/=web:80']);
  assert.equal((await s.kubectlOk(['get', 'ingress', 'later', '-o', 'jsonpath={.spec.ingressClassName}'])).trim(), '');
});
