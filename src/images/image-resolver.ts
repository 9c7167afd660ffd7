/** Docker's image lookup: a reference first, then a full id, then a unique id prefix. */
import { invalidArgument, isInvalidArgument, notFound } from "../errdefs/index.js";
import { familiarString, formatReference, parseTaggedReference } from "../spec/reference.js";
import type { ImageStore } from "./image-store.js";

const ID_RE = /^(?:sha256:)?([a-f0-9]{1,64})$/;

export function noSuchImage(ref: string): Error {
  let shown = ref;
  if (!ID_RE.test(ref)) {
    try { shown = familiarString(parseTaggedReference(ref)); } catch { /* raw */ }
  }
  return notFound(`No such image: ${shown}`);
}

/** Returns the image id or throws not-found ("No such image: <ref>") / invalid-argument. */
export function resolveImageId(store: ImageStore, ref: string): string {
  if (ref === "") throw invalidArgument("image reference must not be empty");
  const full = /^(?:sha256:)?([a-f0-9]{64})$/.exec(ref);
  if (full) {
    const id = `sha256:${full[1]}`;
    if (store.has(id)) return id;
    throw noSuchImage(ref);
  }
  let parseErr: unknown = null;
  try {
    const r = parseTaggedReference(ref);
    const id = store.lookupRef(formatReference(r));
    if (id !== undefined && store.has(id)) return id;
  } catch (err) {
    if (!isInvalidArgument(err)) throw err;
    parseErr = err;
  }
  const m = ID_RE.exec(ref);
  if (m) {
    const prefix = `sha256:${m[1]}`;
    const hits = store.list().filter((r) => r.id.startsWith(prefix));
    if (hits.length === 1) return hits[0]!.id;
    if (hits.length > 1) throw invalidArgument(`multiple IDs found with provided prefix: ${m[1]}`);
  }
  if (parseErr) throw parseErr;
  throw noSuchImage(ref);
}
