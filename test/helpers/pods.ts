// Waiting on pods the way the agent tests do: poll one pod over HTTPS until a predicate
// holds, and on a timeout say what its status and events were.
import { eventually, type TestServer } from './cluster.ts';

/** The image every agent test runs: built by the agent itself, never pulled. */
export const TEST_IMAGE = 'skiff.local/busybox:1';

export const isRunning = (p: any): boolean => p.status?.phase === 'Running' && p.status.containerStatuses?.every((c: any) => c.state.running);
export const isReady = (p: any): boolean => p.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True');

export function podWaiter(s: () => TestServer, ns = 'default') {
  const pod = async (name: string): Promise<any> => (await s().request('GET', `/api/v1/namespaces/${ns}/pods/${name}`)).json;
  const waitPod = async (name: string, ok: (p: any) => boolean, what: string, timeoutMs = 30_000): Promise<any> => {
    let last: any;
    try {
      return await eventually(async () => { last = await pod(name); return ok(last) && last; }, timeoutMs, `${name}: ${what}`);
    } catch (err) {
      const events = await s().kubectl(['get', 'events', '-n', ns, '--field-selector', `involvedObject.name=${name}`]);
      throw new Error(`${(err as Error).message}\nstatus: ${JSON.stringify(last?.status, null, 1)}\nevents:\n${events.stdout}`);
    }
  };
  return { pod, waitPod };
}
