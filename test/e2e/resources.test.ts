import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { cgroupFiles, isCgroupV2, readCgroupFile, type CgroupLimits } from "../../src/sys/cgroups.js";
import { startDaemon, makeBusyboxImage, type TestDaemon } from "../helpers/daemon.js";

let d: TestDaemon;
let v2 = false;
before(async () => {
  d = await startDaemon();
  await makeBusyboxImage(d);
  v2 = await isCgroupV2();
});
after(async () => { await d?.stop(); });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ok = async (args: string[]) => {
  const r = await d.docker(args);
  assert.equal(r.code, 0, `docker ${args.join(" ")}: ${r.stderr}`);
  return r.stdout.trim();
};
const inspect = async <T>(ref: string): Promise<T> => (JSON.parse(await ok(["inspect", ref])) as T[])[0]!;

/** Every limit's cgroup file (v1 or v2, whichever this host runs) reads back what was asked. */
async function assertCgroup(id: string, limits: CgroupLimits): Promise<void> {
  for (const [file, want] of Object.entries(cgroupFiles(`/berth/${id}`, limits, v2))) {
    assert.equal(await readCgroupFile(file), want, file);
  }
}

async function containerCount(): Promise<number> {
  return (await ok(["ps", "-aq"])).split("\n").filter(Boolean).length;
}

test("a process allocating past --memory is OOM-killed: exit 137, State.OOMKilled, an oom event", async () => {
  const since = Date.now() / 1000;
  const r = await d.docker(["run", "--name", "oom", "--memory", "16m", "--memory-swap", "16m", "busybox", "tail", "/dev/zero"], { timeoutMs: 60_000 });
  assert.equal(r.code, 137, r.stderr + d.logs().slice(-2000));
  const c = await inspect<{ Id: string; State: { OOMKilled: boolean; ExitCode: number; Status: string } }>("oom");
  assert.equal(c.State.OOMKilled, true);
  assert.equal(c.State.ExitCode, 137);
  assert.equal(c.State.Status, "exited");
  const ev = await d.api("GET", `/events?since=${since}&until=${Date.now() / 1000}&filters=${encodeURIComponent(JSON.stringify({ container: [c.Id] }))}`);
  const actions = ev.body.split("\n").filter(Boolean).map((l) => (JSON.parse(l) as { Action: string }).Action);
  assert.ok(actions.indexOf("oom") >= 0 && actions.indexOf("oom") < actions.indexOf("die"), actions.join(","));
  await ok(["rm", "oom"]);
});

test("a fork loop stops at --pids-limit", async () => {
  // A subshell forks 60 sleeps against a limit of 20: its forks start failing and it gives up (bounded);
  // the container's shell then execs, which needs no new pid, and lives on.
  const id = await ok(["run", "-d", "--pids-limit", "20", "busybox", "sh", "-c", "(for i in $(seq 1 60); do sleep 1000 & done) 2>/tmp/err; exec sleep 1000"]);
  try {
    const max = Object.keys(cgroupFiles(`/berth/${id}`, { pids: { limit: 20 } }, v2))[0]!;
    let err = "";
    for (let i = 0; i < 50 && !err.includes("fork"); i++) {
      await sleep(100);
      err = (await d.docker(["exec", id, "cat", "/tmp/err"])).stdout;
    }
    assert.match(err, /can't fork/);
    assert.equal(await readCgroupFile(max), "20");
    const current = Number(await readCgroupFile(max.replace(/pids\.max$/, "pids.current")));
    assert.ok(current >= 15 && current <= 20, `pids.current ${current}`);
    const c = await inspect<{ HostConfig: { PidsLimit: number }; State: { Running: boolean } }>(id);
    assert.equal(c.HostConfig.PidsLimit, 20);
    assert.equal(c.State.Running, true);
  } finally {
    await ok(["rm", "-f", id]);
  }
});

test("CPU, memory, ulimit, shm, sysctl and device settings: in inspect, in the cgroup, inside the container", async () => {
  const id = await ok(["run", "-d", "--name", "limited", "--cpus", "0.5", "--cpu-shares", "512", "--cpuset-cpus", "0",
    "--memory", "64m", "--memory-reservation", "32m", "--ulimit", "nofile=1024:2048", "--shm-size", "32m",
    "--sysctl", "net.ipv4.ip_forward=1", "--device", "/dev/null:/dev/mynull", "busybox", "sleep", "1000"]);
  try {
    const c = await inspect<{ HostConfig: Record<string, unknown> }>(id);
    const hc = c.HostConfig;
    assert.equal(hc.NanoCpus, 500000000);
    assert.equal(hc.CpuShares, 512);
    assert.equal(hc.CpusetCpus, "0");
    assert.equal(hc.Memory, 64 << 20);
    assert.equal(hc.MemoryReservation, 32 << 20);
    assert.deepEqual(hc.Ulimits, [{ Name: "nofile", Soft: 1024, Hard: 2048 }]);
    assert.equal(hc.ShmSize, 32 << 20);
    assert.deepEqual(hc.Sysctls, { "net.ipv4.ip_forward": "1" });
    assert.deepEqual(hc.Devices, [{ PathOnHost: "/dev/null", PathInContainer: "/dev/mynull", CgroupPermissions: "rwm" }]);
    await assertCgroup(id, {
      memory: { limit: 64 << 20, reservation: 32 << 20 },
      cpu: { shares: 512, quota: 50000, period: 100000, cpus: "0" },
    });
    const inside = await ok(["exec", id, "sh", "-c",
      "ulimit -n; ulimit -Hn; df -k /dev/shm | tail -1 | awk '{print $2}'; cat /proc/sys/net/ipv4/ip_forward; stat -c '%F %t %T' /dev/mynull; cat /sys/fs/cgroup/cpuset/cpuset.cpus 2>/dev/null || cat /sys/fs/cgroup/cpuset.cpus.effective"]);
    assert.deepEqual(inside.split("\n"), ["1024", "2048", "32768", "1", "character special file 1 3", "0"]);
  } finally {
    await ok(["rm", "-f", id]);
  }
});

test("docker update changes the limits of a running container in its cgroup and in inspect", async () => {
  const id = await ok(["run", "-d", "--memory", "64m", "--memory-swap", "128m", "--pids-limit", "30", "busybox", "sleep", "1000"]);
  try {
    await assertCgroup(id, { memory: { limit: 64 << 20, swap: 128 << 20 }, pids: { limit: 30 } });
    await ok(["update", "--memory", "96m", "--memory-swap", "192m", "--pids-limit", "50", "--cpu-shares", "256", id]);
    await assertCgroup(id, { memory: { limit: 96 << 20, swap: 192 << 20 }, pids: { limit: 50 }, cpu: { shares: 256 } });
    const c = await inspect<{ HostConfig: { Memory: number; MemorySwap: number; PidsLimit: number; CpuShares: number } }>(id);
    assert.deepEqual([c.HostConfig.Memory, c.HostConfig.MemorySwap, c.HostConfig.PidsLimit, c.HostConfig.CpuShares], [96 << 20, 192 << 20, 50, 256]);
    // Bad input leaves the running limits as they were.
    const bad = await d.docker(["update", "--memory", "4m", id]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /Minimum memory limit allowed is 6MB/);
    await assertCgroup(id, { memory: { limit: 96 << 20 }, pids: { limit: 50 } });
  } finally {
    await ok(["rm", "-f", id]);
  }
});

test("bad limits: Docker's errors at create, and nothing half-made", async () => {
  const before = await containerCount();
  const cases: [string[], RegExp][] = [
    [["--memory", "4m"], /Minimum memory limit allowed is 6MB/],
    [["--cpus", "1000"], /Range of CPUs is from 0\.01 to \d+\.00, as there are only \d+ CPUs available/],
    [["--cpuset-cpus", "0-999"], /Requested CPUs are not available - requested 0-999, available: /],
    [["--memory", "64m", "--memory-swap", "32m"], /Minimum memoryswap limit should be larger than memory limit, see usage/],
    [["--memory", "16m", "--memory-reservation", "32m"], /Minimum memory limit can not be less than memory reservation limit, see usage/],
    [["--cpu-period", "10"], /CPU cfs period can not be less than 1ms/],
    [["--blkio-weight", "5"], /Range of blkio weight is from 10 to 1000/],
    [["--device", "/dev/nosuchdevice"], /error gathering device information while adding custom device "\/dev\/nosuchdevice": no such file or directory/],
    [["--ulimit", "nofile=2048:1024"], /soft limit must be less than or equal to hard limit/],
  ];
  for (const [flags, msg] of cases) {
    const r = await d.docker(["run", "--rm", ...flags, "busybox", "true"]);
    assert.notEqual(r.code, 0, flags.join(" "));
    assert.match(r.stderr, msg, flags.join(" "));
  }
  // Through the API, below the CLI's own parsing: a negative memory limit.
  const neg = await d.api("POST", "/containers/create", { Image: "busybox", Cmd: ["true"], HostConfig: { Memory: -5 } });
  assert.equal(neg.status, 400, neg.body);
  assert.match(neg.body, /Minimum memory limit allowed is 6MB/);
  assert.equal(await containerCount(), before);
});

test("resize of a non-TTY or stopped container, exec in a stopped one, stats of a removed one: Docker's answers", async () => {
  const id = await ok(["run", "-d", "busybox", "sleep", "1000"]);
  // dockerd (containerd's shim) ignores a resize of a container without a terminal: 200, nothing changes.
  const plain = await d.api("POST", `/containers/${id}/resize?h=40&w=100`);
  assert.equal(plain.status, 200, plain.body);
  const badSize = await d.api("POST", `/containers/${id}/resize?h=-1&w=x`);
  assert.equal(badSize.status, 400, badSize.body);
  await ok(["stop", "-t", "0", id]);
  const stopped = await d.api("POST", `/containers/${id}/resize?h=40&w=100`);
  assert.equal(stopped.status, 409, stopped.body);
  assert.match(stopped.body, new RegExp(`Container ${id} is not running`));
  const ex = await d.docker(["exec", id, "true"]);
  assert.notEqual(ex.code, 0);
  assert.match(ex.stderr, new RegExp(`container ${id} is not running`, "i"));
  await ok(["rm", id]);
  const st = await d.docker(["stats", "--no-stream", id]);
  assert.notEqual(st.code, 0);
  assert.match(st.stderr, new RegExp(`No such container: ${id}`));
  const api = await d.api("GET", `/containers/${id}/stats?stream=false`);
  assert.equal(api.status, 404);
});
