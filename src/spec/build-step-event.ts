/**
 * Berth's extension to POST /build (query berthevents=1): the aux payload of a {"id":"berth.step"} message,
 * sent when a step starts (running) or ends (cached or done). The docker CLI never asks for it.
 */
export interface StepEvent {
  step: number;
  total: number;
  instruction: string;
  state: "running" | "cached" | "done";
  ms?: number;
  /** Why a step that was not reused was rebuilt, in one line. */
  reason?: string;
  imageId?: string | null;
  /** The cache-key inputs, with --explain. */
  explain?: string;
}
