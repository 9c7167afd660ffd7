import { test } from "node:test";
import assert from "node:assert/strict";
import type { ImageConfig } from "../../spec/oci-image.js";
import type { StepInputs } from "./build-cache.js";
import { matchCacheSource, restoredImageConfig, stepComment } from "./cache-from.js";

const inputs = (over: Partial<StepInputs> = {}): StepInputs => ({
  parent: "sha256:aaa", kind: "RUN", instruction: "RUN make", resolved: 'RUN ["/bin/sh","-c","make"]', vars: {}, argNames: [], platform: "linux/amd64", ...over,
});

const base: ImageConfig = {
  architecture: "amd64", os: "linux", config: {}, created: "2020-01-01T00:00:00Z",
  history: [{ created_by: "ADD rootfs" }], rootfs: { type: "layers", diff_ids: ["sha256:l0"] },
};

function source(): ImageConfig {
  return {
    ...base, config: { Cmd: ["sh"] },
    history: [
      { created_by: "ADD rootfs" },
      { created_by: "/bin/sh -c make", comment: stepComment(inputs()), created: "2021-01-01T00:00:00Z" },
      { created_by: "/bin/sh -c #(nop)  CMD [\"sh\"]", comment: stepComment(inputs({ kind: "CMD", instruction: "CMD sh", resolved: 'CMD ["sh"]' })), empty_layer: true },
    ],
    rootfs: { type: "layers", diff_ids: ["sha256:l0", "sha256:l1"] },
  };
}

test("stepComment: the cache key without the parent image id; every other input counts", () => {
  assert.equal(stepComment(inputs()), stepComment(inputs({ parent: "sha256:other" })));
  assert.notEqual(stepComment(inputs()), stepComment(inputs({ resolved: 'RUN ["/bin/sh","-c","make all"]' })));
  assert.notEqual(stepComment(inputs()), stepComment(inputs({ vars: { V: "2" } })));
  assert.notEqual(stepComment(inputs({ kind: "COPY", sources: { digest: "sha256:1", files: [] } })), stepComment(inputs({ kind: "COPY", sources: { digest: "sha256:2", files: [] } })));
  assert.match(stepComment(inputs()), /^berth\.build\.v1 [0-9a-f]{32}$/);
});

test("matchCacheSource: the source must continue the parent's layers and history with the same step", () => {
  const src = source();
  assert.deepEqual(matchCacheSource(base, src, stepComment(inputs())), { entry: src.history![1], diffId: "sha256:l1" });
  assert.equal(matchCacheSource(base, src, stepComment(inputs({ resolved: "RUN other" }))), null, "another step");
  const otherBase = { ...base, rootfs: { type: "layers" as const, diff_ids: ["sha256:x0"] } };
  assert.equal(matchCacheSource(otherBase, src, stepComment(inputs())), null, "another base layer");
  const otherHistory = { ...base, history: [{ created_by: "ADD other" }] };
  assert.equal(matchCacheSource(otherHistory, src, stepComment(inputs())), null, "another base history");

  const parent = restoredImageConfig(base, src, { entry: src.history![1]!, diffId: "sha256:l1" }, {});
  const cmd = stepComment(inputs({ kind: "CMD", instruction: "CMD sh", resolved: 'CMD ["sh"]' }));
  assert.deepEqual(matchCacheSource(parent, src, cmd), { entry: src.history![2], diffId: null }, "a metadata step adds no layer");
  assert.equal(matchCacheSource(src, src, cmd), null, "nothing after the end");
});

test("restoredImageConfig: parent plus the matched entry and layer, the step's own config", () => {
  const src = source();
  const cfg = restoredImageConfig(base, src, { entry: src.history![1]!, diffId: "sha256:l1" }, { Env: ["A=1"] });
  assert.deepEqual(cfg.rootfs.diff_ids, ["sha256:l0", "sha256:l1"]);
  assert.equal(cfg.history!.length, 2);
  assert.equal(cfg.created, "2021-01-01T00:00:00Z");
  assert.deepEqual(cfg.config, { Env: ["A=1"] });
  const meta = restoredImageConfig(null, src, { entry: { created_by: "x", empty_layer: true }, diffId: null }, {});
  assert.deepEqual(meta.rootfs.diff_ids, []);
});
