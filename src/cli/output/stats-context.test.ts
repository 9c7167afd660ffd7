import { test } from "node:test";
import assert from "node:assert/strict";
import { invalidEntry, statsContext, statsEntry } from "./stats-context.js";

const sample = {
  id: "a".repeat(64), name: "/web",
  cpu_stats: { cpu_usage: { total_usage: 3_000_000_000 }, system_cpu_usage: 20_000_000_000, online_cpus: 2 },
  precpu_stats: { cpu_usage: { total_usage: 2_000_000_000 }, system_cpu_usage: 10_000_000_000 },
  memory_stats: { usage: 10 * 1024 * 1024, limit: 100 * 1024 * 1024, stats: { total_inactive_file: 2 * 1024 * 1024 } },
  networks: { eth0: { rx_bytes: 1500, tx_bytes: 500 }, eth1: { rx_bytes: 500, tx_bytes: 0 } },
  blkio_stats: { io_service_bytes_recursive: [{ op: "Read", value: 4096 }, { op: "Write", value: 1_000_000 }, { op: "Total", value: 1_004_096 }] },
  pids_stats: { current: 3 },
};

const row = (e: ReturnType<typeof statsEntry>, trunc = true) => statsContext(e, { trunc }).toJSON();

test("stats row: docker's CPU, memory-without-cache, net and block sums", () => {
  const r = row(statsEntry("web", sample));
  assert.equal(r.CPUPerc, "20.00%");                 // 1e9 / 1e10 * 2 CPUs
  assert.equal(r.MemUsage, "8MiB / 100MiB");         // v1: usage - total_inactive_file
  assert.equal(r.MemPerc, "8.00%");
  assert.equal(r.NetIO, "2kB / 500B");
  assert.equal(r.BlockIO, "4.1kB / 1MB");
  assert.equal(r.PIDs, "3");
  assert.equal(r.Name, "web");
  assert.equal(r.ID, "aaaaaaaaaaaa");
  assert.equal(r.Container, "web");
  assert.equal(row(statsEntry("web", sample), false).ID, "a".repeat(64));
});

test("stats row: cgroup v2 inactive_file, no precpu, stopped container", () => {
  const v2 = statsEntry("x", { ...sample, memory_stats: { usage: 4096, limit: 0, stats: { inactive_file: 1024 } }, precpu_stats: {} });
  assert.equal(v2.memory, 3072);
  assert.equal(row(v2).MemPerc, "0.00%");
  assert.equal(row(v2).CPUPerc, "30.00%");             // no precpu: deltas from zero
  const empty = row(statsEntry("y", { id: "b".repeat(64), name: "/y" }));
  assert.equal(empty.CPUPerc, "0.00%");
  assert.equal(empty.MemUsage, "0B / 0B");
  assert.equal(empty.NetIO, "0B / 0B");
});

test("stats row: a failed stream shows dashes", () => {
  const r = row(invalidEntry("gone"));
  assert.equal(r.CPUPerc, "--");
  assert.equal(r.MemUsage, "-- / --");
  assert.equal(r.PIDs, "--");
  assert.equal(r.Container, "gone");
});
