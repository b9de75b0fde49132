// Volume set-up failures. The pod worker turns one into a FailedMount event
// (`eventMessage`) and keeps the pod in ContainerCreating until a retry succeeds.

export class VolumeError extends Error {
  override name = 'VolumeError';
  readonly reason = 'FailedMount';
  /** Every failed volume of the call, this one first (setUp tries them all). */
  errors: VolumeError[] = [this];
  constructor(
    message: string,
    /** The pod volume's name, when the failure belongs to one. */
    readonly volume?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** The kubelet's event text: `MountVolume.SetUp failed for volume "cfg" : configmap "cfg" not found`. */
  get eventMessage(): string {
    return this.volume === undefined ? this.message : `MountVolume.SetUp failed for volume "${this.volume}" : ${this.message}`;
  }
}

/** Go's utilerrors.NewAggregate message: one error as itself, several as `[a, b]`. */
export function aggregateMessage(messages: string[]): string {
  return messages.length === 1 ? messages[0]! : `[${messages.join(', ')}]`;
}
