import { hostname } from 'node:os';

/** Labels every lab object carries, so that cleanup after a crash can find it. */
export const LABEL_LAB = 'sztp-lab.lab';
export const LABEL_NODE = 'sztp-lab.node';
export const LABEL_RUN = 'sztp-lab.run';
/** On images: the hash of the image's inputs, to skip builds that would change nothing. */
export const LABEL_INPUT_HASH = 'sztp-lab.input-hash';

export function labLabels(lab: string, node: string, run: string): Record<string, string> {
  return { [LABEL_LAB]: lab, [LABEL_NODE]: node, [LABEL_RUN]: run };
}
/** On the objects of a scenario run: `<host>:<pid>` of the process that owns them. */
export const LABEL_OWNER = 'sztp-lab.owner';

/** This process's mark on the labs it owns: the value of its sztp-lab.owner label. */
export function ownerMark(): string {
  return `${hostname()}:${process.pid}`;
}
