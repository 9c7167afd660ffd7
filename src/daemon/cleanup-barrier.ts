/**
 * Requests that `docker run --rm` makes, which cannot observe what a removed container still holds while its
 * cleanup runs (a mount, a network endpoint, a snapshot): they go ahead at once. Every other request first
 * waits until those cleanups finished, so no answer ever shows a removed container's leftovers.
 */
const PASS: readonly [string, RegExp][] = [
  ["GET", /^\/_ping$/], ["HEAD", /^\/_ping$/], ["GET", /^\/version$/], ["GET", /^\/events$/],
  ["POST", /^\/containers\/create$/],
  ["POST", /^\/containers\/[^/]+\/(start|attach|wait|resize)$/],
];

export function passesCleanupBarrier(method: string, path: string): boolean {
  return PASS.some(([m, re]) => m === method && re.test(path));
}
