import { test } from "node:test";
import assert from "node:assert/strict";
import { checkResources, parseCpuset } from "./resource-limits.js";

const host = { cpus: "0-1", mems: "0" };
const bad = (hc: object, msg: string) => assert.throws(() => checkResources(hc, host), (e: Error & { kind?: string }) => e.message === msg && e.kind === "invalid-argument");

test("Docker's resource checks and messages", () => {
  bad({ Memory: 1024 }, "Minimum memory limit allowed is 6MB");
  bad({ Memory: -1 }, "Minimum memory limit allowed is 6MB");
  bad({ Memory: 64 << 20, MemorySwap: 32 << 20 }, "Minimum memoryswap limit should be larger than memory limit, see usage");
  bad({ MemoryReservation: 1024 }, "Minimum memory reservation allowed is 6MB");
  bad({ Memory: 16 << 20, MemoryReservation: 32 << 20 }, "Minimum memory limit can not be less than memory reservation limit, see usage");
  bad({ MemorySwappiness: 101 }, "Invalid value: 101, valid memory swappiness range is 0-100");
  bad({ NanoCpus: 1000e9 }, "Range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available");
  bad({ NanoCpus: -1 }, "Range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available");
  bad({ NanoCpus: 1e9, CpuQuota: 50000 }, "Conflicting options: Nano CPUs and CPU Quota cannot both be set");
  bad({ CpuPeriod: 10 }, "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)");
  bad({ CpuQuota: 10 }, "CPU cfs quota can not be less than 1ms (i.e. 1000)");
  bad({ CpusetCpus: "0-99" }, "Requested CPUs are not available - requested 0-99, available: 0-1");
  bad({ CpusetCpus: "x" }, "Invalid value x for cpuset cpus");
  bad({ CpusetMems: "3" }, "Requested memory nodes are not available - requested 3, available: 0");
  bad({ BlkioWeight: 5 }, "Range of blkio weight is from 10 to 1000");
});

test("valid limits pass; CPU shares are clamped like Docker's adaptContainerSettings", () => {
  checkResources({ Memory: 64 << 20, MemorySwap: -1, MemoryReservation: 32 << 20, NanoCpus: 5e8, CpusetCpus: "0,1", PidsLimit: -1, MemorySwappiness: -1 }, host);
  const low = { CpuShares: -5 };
  checkResources(low, host);
  assert.equal(low.CpuShares, 2);
  const high = { CpuShares: 1 << 20 };
  checkResources(high, host);
  assert.equal(high.CpuShares, 262144);
});

test("cpuset lists", () => {
  assert.deepEqual([...parseCpuset("0-2,5")!], [0, 1, 2, 5]);
  assert.equal(parseCpuset("2-1"), null);
  assert.equal(parseCpuset("a"), null);
});
