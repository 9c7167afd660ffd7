import { test } from "node:test";
import assert from "node:assert/strict";
import { cgroupFiles, sharesToWeight } from "./cgroups.js";

const limits = {
  memory: { limit: 64 << 20, reservation: 32 << 20, swap: 128 << 20 },
  cpu: { shares: 512, quota: 50000, period: 100000, cpus: "0", mems: "0" },
  pids: { limit: 20 },
  blockIO: { weight: 300 },
};

test("cgroup v1: one directory per controller, Docker's v1 file names", () => {
  assert.deepEqual(cgroupFiles("/berth/abc", limits, false), {
    "memory/berth/abc/memory.limit_in_bytes": String(64 << 20),
    "memory/berth/abc/memory.soft_limit_in_bytes": String(32 << 20),
    "memory/berth/abc/memory.memsw.limit_in_bytes": String(128 << 20),
    "cpu/berth/abc/cpu.shares": "512",
    "cpu/berth/abc/cpu.cfs_quota_us": "50000",
    "cpu/berth/abc/cpu.cfs_period_us": "100000",
    "cpuset/berth/abc/cpuset.cpus": "0",
    "cpuset/berth/abc/cpuset.mems": "0",
    "pids/berth/abc/pids.max": "20",
    "blkio/berth/abc/blkio.weight": "300",
  });
});

test("cgroup v2: one directory, runc's conversions (weight, swap alone, cpu.max)", () => {
  assert.deepEqual(cgroupFiles("/berth/abc", limits, true), {
    "/berth/abc/memory.max": String(64 << 20),
    "/berth/abc/memory.low": String(32 << 20),
    "/berth/abc/memory.swap.max": String(64 << 20),
    "/berth/abc/cpu.weight": "20",
    "/berth/abc/cpu.max": "50000 100000",
    "/berth/abc/cpuset.cpus": "0",
    "/berth/abc/cpuset.mems": "0",
    "/berth/abc/pids.max": "20",
    "/berth/abc/io.bfq.weight": "default 300",
  });
  assert.equal(cgroupFiles("/x", { memory: { limit: 1 << 30, swap: -1 } }, true)["/x/memory.swap.max"], "max");
});

test("shares to weight: the ends and Docker's default", () => {
  assert.equal(sharesToWeight(2), 1);
  assert.equal(sharesToWeight(262144), 10000);
  assert.equal(sharesToWeight(1024), 39);
});
