// The built-in Ingress controller and ServiceLB end to end on a real node: two busybox
// httpd Deployments behind Services, Ingresses of class skiff routing by host and path,
// requests from the test process to the agent's Ingress port (127.0.0.1:<ingressPort>)
// with Host headers (and an Upgrade request tunnelled to an nc-based echo pod);
// `kubectl get ingress` / `kubectl get svc` show the node IP once the server's status
// controllers set it, and the LoadBalancer address carries traffic (the service proxy's).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { agentUnavailable, eventually, freePort, startServer, type TestServer } from '../helpers/cluster.ts';
import { TEST_IMAGE } from '../helpers/pods.ts';

const skip = agentUnavailable();
let s: TestServer;
let nodeIP = '';

before(async () => {
  if (skip) return;
  s = await startServer({ agent: true });
  const node = (await s.request('GET', `/api/v1/nodes/${s.nodeName}`)).json;
  nodeIP = node.status.addresses.find((a: any) => a.type === 'InternalIP').address;
});
after(async () => {
  await s?.stop();
});

const apply = (yaml: string) => s.kubectlOk(['apply', '-f', '-'], { input: yaml });

interface Res { status: number; body: string; headers: http.IncomingHttpHeaders }
function get(host: string, path: string, target = `127.0.0.1:${s.ingressPort}`): Promise<Res> {
  const [h, port] = target.split(':');
  return new Promise((resolve, reject) => {
    const req = http.get({ host: h, port: Number(port), path, headers: { host }, agent: false }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode!, body: body.trim(), headers: res.headers }));
    });
    req.on('error', reject);
    req.setTimeout(5_000, () => req.destroy(new Error(`GET ${host}${path}: no answer in 5 s`)));
  });
}

/** Polls until GET host+path answers `status` (and `body`, when given). */
async function expect(host: string, path: string, status: number, body?: string, timeoutMs = 60_000): Promise<Res> {
  let last: Res | string = 'no answer';
  try {
    return await eventually(async () => {
      last = await get(host, path).catch((e) => String(e));
      return typeof last !== 'string' && last.status === status && (body === undefined || last.body === body) && last;
    }, timeoutMs, `${host}${path} → ${status} ${body ?? ''}`);
  } catch (err) {
    throw new Error(`${(err as Error).message}; last: ${JSON.stringify(last)}`);
  }
}

function app(name: string, files: string): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}}
spec:
  replicas: 1
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: httpd
        image: ${TEST_IMAGE}
        command: [sh, -c, ${JSON.stringify(`${files} && exec httpd -f -p 8080 -h /www`)}]
        readinessProbe: {tcpSocket: {port: 8080}, periodSeconds: 1}
`;
}

test('Ingresses of class skiff route by host and path; 404 without a rule, 503 without endpoints; ADDRESS is the node IP', { skip }, async () => {
  // The server made IngressClass skiff, the default class.
  const ic = JSON.parse(await s.kubectlOk(['get', 'ingressclass', 'skiff', '-o', 'json']));
  assert.equal(ic.spec.controller, 'skiff.io/ingress');
  assert.equal(ic.metadata.annotations['ingressclass.kubernetes.io/is-default-class'], 'true');

  await apply([
    // app-a also has a CGI script that prints the request's environment (its headers).
    app('app-a', "mkdir -p /www/cgi-bin && echo app-a > /www/index.html && printf '#!/bin/sh\\necho Content-Type: text/plain\\necho\\nenv\\n' > /www/cgi-bin/env && chmod +x /www/cgi-bin/env"),
    app('app-b', 'mkdir -p /www/api && echo app-b > /www/index.html && echo app-b-api > /www/api/index.html'),
  ].join('---\n') + `---
apiVersion: v1
kind: Service
metadata: {name: svc-a}
spec:
  selector: {app: app-a}
  ports: [{name: http, port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: svc-b}
spec:
  selector: {app: app-b}
  ports: [{port: 8080, targetPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: svc-empty}
spec:
  selector: {app: nothing-has-this-label}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web}
spec:
  ingressClassName: skiff
  rules:
  - host: a.example.test
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: svc-a, port: {name: http}}}}
  - host: b.example.test
    http:
      paths:
      - {path: /api, pathType: Prefix, backend: {service: {name: svc-b, port: {number: 8080}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: classless}
spec:
  rules:
  - host: empty.example.test
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: svc-empty, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: not-ours}
spec:
  ingressClassName: nginx
  rules:
  - host: nginx.example.test
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: svc-a, port: {number: 80}}}}
`);

  // Routing by host, then by path (element-wise Prefix: /apix is not /api).
  await expect('a.example.test', '/', 200, 'app-a');
  await expect('b.example.test', '/api/', 200, 'app-b-api');
  assert.equal((await get('A.Example.Test:80', '/')).body, 'app-a', 'Host is case-insensitive, port ignored');
  // What the pod sees: the Host as sent, and X-Forwarded-* from the proxy.
  const env = (await get('a.example.test', '/cgi-bin/env')).body;
  for (const line of ['HTTP_HOST=a.example.test', 'HTTP_X_FORWARDED_HOST=a.example.test', 'HTTP_X_FORWARDED_PROTO=http', 'HTTP_X_FORWARDED_FOR=127.0.0.1', `HTTP_X_FORWARDED_PORT=${s.ingressPort}`]) {
    assert.ok(env.split('\n').includes(line), `${line} in\n${env}`);
  }
  assert.equal((await get('b.example.test', '/')).status, 404, 'b has only /api');
  assert.equal((await get('b.example.test', '/apix')).status, 404);
  assert.equal((await get('unknown.example.test', '/')).status, 404);
  assert.equal((await get('nginx.example.test', '/')).status, 404, 'another class is not served');
  // The class-less Ingress is ours (skiff is the default class); its Service has no endpoints.
  const empty = await get('empty.example.test', '/');
  assert.equal(empty.status, 503, JSON.stringify(empty));

  // The status controller writes the node IP: kubectl's ADDRESS column.
  const row = await eventually(async () => {
    const out = await s.kubectlOk(['get', 'ingress', 'web', '--no-headers']);
    return out.includes(nodeIP) && out;
  }, 20_000, 'ingress ADDRESS');
  assert.match(row, new RegExp(`^web\\s+skiff\\s+a.example.test,b.example.test\\s+${nodeIP.replace(/\./g, '\\.')}\\s+80\\s`));
  const classless = await eventually(async () => (await s.kubectlOk(['get', 'ingress', 'classless', '-o', 'jsonpath={.status.loadBalancer.ingress[*].ip}'])).trim() || undefined, 20_000, 'classless ADDRESS');
  assert.equal(classless, nodeIP);
  assert.equal((await s.kubectlOk(['get', 'ingress', 'not-ours', '-o', 'jsonpath={.status.loadBalancer.ingress}'])).trim(), '', 'another class gets no address from us');

  // A default backend catches what no rule does.
  await s.kubectlOk(['patch', 'ingress', 'web', '--type', 'merge', '-p', JSON.stringify({ spec: { defaultBackend: { service: { name: 'svc-b', port: { number: 8080 } } } } })]);
  await expect('unknown.example.test', '/', 200, 'app-b');
  await expect('b.example.test', '/', 200, 'app-b');

  // No ready endpoints any more: 503; back again: 200.
  await s.kubectlOk(['scale', 'deployment', 'app-a', '--replicas', '0']);
  await expect('a.example.test', '/', 503, undefined, 30_000);
  await s.kubectlOk(['scale', 'deployment', 'app-a', '--replicas', '1']);
  await expect('a.example.test', '/', 200, 'app-a');
});

test('an Upgrade (WebSocket-style) request is passed through to the pod as a raw stream', { skip }, async () => {
  // The pod answers any connection with a 101 that lists the request headers it got, then echoes.
  await apply(`apiVersion: v1
kind: ConfigMap
metadata: {name: ws-script}
data:
  ws.sh: |
    #!/bin/sh
    while read -r line; do line=$(printf %s "$line" | tr -d '\\r'); [ -z "$line" ] && break; seen="$seen$line;"; done
    printf 'HTTP/1.1 101 Switching Protocols\\r\\nUpgrade: echo\\r\\nConnection: Upgrade\\r\\nX-Seen: %s\\r\\n\\r\\n' "$seen"
    exec cat
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: app-ws}
spec:
  replicas: 1
  selector: {matchLabels: {app: app-ws}}
  template:
    metadata: {labels: {app: app-ws}}
    spec:
      terminationGracePeriodSeconds: 1
      volumes: [{name: scripts, configMap: {name: ws-script, defaultMode: 0755}}]
      containers:
      - name: nc
        image: ${TEST_IMAGE}
        command: [nc, -ll, -p, '8080', -e, /scripts/ws.sh]
        volumeMounts: [{name: scripts, mountPath: /scripts}]
        readinessProbe: {tcpSocket: {port: 8080}, periodSeconds: 1}
---
apiVersion: v1
kind: Service
metadata: {name: svc-ws}
spec:
  selector: {app: app-ws}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: ws}
spec:
  ingressClassName: skiff
  rules:
  - host: ws.example.test
    http:
      paths:
      - {path: /socket, pathType: Prefix, backend: {service: {name: svc-ws, port: {number: 80}}}}
`);
  const tryOnce = () => new Promise<string>((resolve, reject) => {
    const sock = net.connect(s.ingressPort!, '127.0.0.1');
    let got = '';
    const timer = setTimeout(() => { sock.destroy(); resolve(got); }, 3000);
    sock.on('error', (e) => { clearTimeout(timer); reject(e); });
    sock.on('connect', () => sock.write('GET /socket/chat HTTP/1.1\r\nHost: ws.example.test\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n'));
    sock.on('data', (d) => {
      got += d;
      if (got.includes('\r\n\r\n') && !got.includes('ping-pong')) sock.write('ping-pong\n');
      if (got.includes('ping-pong\n') || /^HTTP\/1.1 [45]/.test(got)) { clearTimeout(timer); sock.destroy(); resolve(got); }
    });
  });
  const got = await eventually(async () => { const g = await tryOnce(); return g.startsWith('HTTP/1.1 101') && g; }, 60_000, 'a 101 from the pod');
  const seen = /X-Seen: (.*)\r\n/.exec(got)?.[1] ?? '';
  assert.match(seen, /^GET \/socket\/chat HTTP\/1.1;/);
  for (const h of ['host: ws.example.test', 'upgrade: echo', 'connection: Upgrade', 'x-forwarded-for: 127.0.0.1', 'x-forwarded-host: ws.example.test']) {
    assert.ok(seen.toLowerCase().split(';').includes(h.toLowerCase()), `${h} in ${seen}`);
  }
  assert.ok(got.endsWith('ping-pong\n'), `echoed through the tunnel: ${JSON.stringify(got)}`);
});

test('a LoadBalancer Service gets the node IP as its EXTERNAL-IP (ServiceLB)', { skip }, async () => {
  const port = await freePort(); // the node IP is shared by every test agent on this machine
  await apply(`apiVersion: v1
kind: Service
metadata: {name: lb-b}
spec:
  type: LoadBalancer
  selector: {app: app-b}
  ports: [{name: http, port: ${port}, targetPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: lb-b-clash}
spec:
  type: LoadBalancer
  selector: {app: app-b}
  ports: [{name: http, port: ${port}, targetPort: 8080}]
`);
  const row = await eventually(async () => {
    const out = await s.kubectlOk(['get', 'svc', 'lb-b', '--no-headers']);
    return out.includes(nodeIP) && out;
  }, 20_000, 'EXTERNAL-IP');
  assert.match(row, new RegExp(`^lb-b\\s+LoadBalancer\\s+\\S+\\s+${nodeIP.replace(/\./g, '\\.')}\\s+${port}:\\d+/TCP`));
  // The same port on a second LoadBalancer: pending, with a Warning.
  assert.match(await s.kubectlOk(['get', 'svc', 'lb-b-clash', '--no-headers']), /<pending>/);
  const events = await eventually(async () => {
    const out = await s.kubectlOk(['get', 'events', '--field-selector', 'involvedObject.name=lb-b-clash']);
    return out.includes('PortConflict') && out;
  }, 20_000, 'PortConflict event');
  assert.match(events, /Warning\s+PortConflict/);
});

// The LoadBalancer data plane is the service proxy's (src/proxy): it DNATs the status
// addresses on the Service port. Skipped while that module is still a placeholder.
const proxyPending = readFileSync(path.resolve(import.meta.dirname, '../../src/proxy/index.ts'), 'utf8').includes('PLACEHOLDER')
  ? 'the service proxy (src/proxy/index.ts) is still a placeholder: nothing serves LoadBalancer addresses yet' : undefined;

test('traffic to the LoadBalancer address reaches the pods', { skip: skip ?? proxyPending }, async () => {
  const port = Number(await s.kubectlOk(['get', 'svc', 'lb-b', '-o', 'jsonpath={.spec.ports[0].port}']));
  await eventually(async () => {
    const r = await get('ignored', '/api/', `${nodeIP}:${port}`).catch(() => undefined);
    return r?.status === 200 && r.body === 'app-b-api';
  }, 30_000, `http://${nodeIP}:${port}/api/ reaches app-b`);
});
