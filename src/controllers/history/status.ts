// Writing a workload's status: skipped when nothing changed; on a conflict the status is
// written once more onto the object as the server has it now.
import type { KObject } from '../../api/object.ts';
import { jsonEqual } from '../../api/kinds/access.ts';
import { isConflict, isNotFound, type ResourceInterface } from '../../client/types.ts';

export async function writeStatus(api: ResourceInterface, obj: KObject, status: Record<string, unknown>, fieldManager: string): Promise<void> {
  if (jsonEqual(status, obj.status ?? {})) return;
  let target = obj;
  for (let attempt = 0; ; attempt++) {
    const copy = structuredClone(target);
    copy.status = status;
    try {
      await api.updateStatus(copy, { fieldManager });
      return;
    } catch (err) {
      if (isNotFound(err)) return;
      if (!isConflict(err) || attempt > 0) throw err;
      const fresh = await api.tryGet(obj.metadata.namespace, obj.metadata.name!);
      if (!fresh || fresh.metadata.uid !== obj.metadata.uid) return;
      target = fresh; // a newer spec brings another sync; these counts are still the best we know
    }
  }
}
