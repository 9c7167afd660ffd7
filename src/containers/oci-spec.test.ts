import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { isKind } from "../errdefs/index.js";
import type { SeccompProfile } from "../spec/oci-runtime.js";
import { DEFAULT_CAPABILITIES, tweakCapabilities, hostCapabilities } from "./capabilities.js";
import { buildOciSpec, parseSecurityOpts, parseSignal, type SpecInput } from "./oci-spec.js";
import { kernelAtLeast, seccompForContainer } from "./seccomp.js";
import { mergeConfig, containerEnv } from "./merge-config.js";
import { planMounts } from "./mount-plan.js";

const profile = JSON.parse(readFileSync(new URL("../../../src/containers/profiles/seccomp-default.json", import.meta.url), "utf8")) as SeccompProfile;
const host = { arch: "amd64", kernel: "6.18.0", lastCap: 40, cgroupV2: false, rlimitHard: { nofile: 20000 }, devices: [{ type: "c", path: "/dev/fuse", major: 10, minor: 229 }], maskedExtra: [] };
const ID = "a".repeat(64);

function spec(over: Partial<SpecInput> = {}, hc: SpecInput["hostConfig"] = {}) {
  return buildOciSpec({
    id: ID, config: { Cmd: ["sh"], Env: ["A=1"] }, hostConfig: hc, rootfs: "/r", user: { uid: 0, gid: 0 }, mounts: planMounts(hc),
    files: { hostname: "/c/hostname", hosts: "/c/hosts", resolvConf: "/c/resolv.conf" }, initBinary: "/usr/bin/tini-static",
    seccompDefault: profile, host, ...over,
  });
}

test("defaults: Docker's 14 caps, masked paths, namespaces, no rlimits, mounts, env, hostname", () => {
  const s = spec();
  assert.deepEqual(s.process.capabilities!.bounding, DEFAULT_CAPABILITIES);
  assert.equal(s.process.capabilities!.inheritable, undefined);
  assert.equal(s.process.rlimits, undefined);
  assert.ok(s.linux.maskedPaths!.includes("/proc/kcore"));
  assert.ok(s.linux.readonlyPaths!.includes("/proc/sys"));
  assert.deepEqual(s.linux.namespaces!.map((n) => n.type).sort(), ["ipc", "mount", "network", "pid", "uts"]);
  assert.equal(s.linux.cgroupsPath, `/berth/${ID}`);
  assert.equal(s.hostname, ID.slice(0, 12));
  assert.deepEqual(s.process.env, ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", `HOSTNAME=${ID.slice(0, 12)}`, "A=1"]);
  assert.equal(s.process.cwd, "/");
  const shm = s.mounts.find((m) => m.destination === "/dev/shm")!;
  assert.ok(shm.options!.includes("size=67108864"));
  assert.equal(s.mounts.find((m) => m.destination === "/sys")!.options!.includes("ro"), true);
  assert.equal(s.mounts.find((m) => m.destination === "/etc/resolv.conf")!.source, "/c/resolv.conf");
  assert.equal(s.linux.sysctl!["net.ipv4.ip_unprivileged_port_start"], "0");
  assert.ok(s.linux.seccomp);
});

test("seccomp is filtered by the bounding caps and arch", () => {
  const s = spec().linux.seccomp!;
  assert.equal(s.defaultAction, "SCMP_ACT_ERRNO");
  assert.deepEqual(s.architectures, ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]);
  const names = new Set(s.syscalls!.flatMap((r) => r.names));
  assert.ok(names.has("read"));
  assert.ok(!names.has("mount"), "mount needs CAP_SYS_ADMIN");
  assert.ok(s.syscalls!.some((r) => r.names.includes("clone3") && r.errnoRet === 38));
  const admin = seccompForContainer(profile, { caps: [...DEFAULT_CAPABILITIES, "CAP_SYS_ADMIN"], arch: "amd64", kernel: "6.1" });
  const adminNames = new Set(admin.syscalls!.flatMap((r) => r.names));
  assert.ok(adminNames.has("mount"));
  assert.ok(!admin.syscalls!.some((r) => r.names.includes("clone3") && r.action === "SCMP_ACT_ERRNO"));
  for (const r of s.syscalls!) assert.equal((r as { includes?: unknown }).includes, undefined);
  assert.equal(kernelAtLeast("6.18.44-fc", "5.8"), true);
  assert.equal(kernelAtLeast("4.19", "5.8"), false);
});

test("privileged: all caps, no seccomp, no masked paths, rw sys, all devices", () => {
  const s = spec({}, { Privileged: true });
  assert.equal(s.process.capabilities!.bounding!.length, 41);
  assert.equal(s.linux.seccomp, undefined);
  assert.equal(s.linux.maskedPaths, undefined);
  assert.ok(!s.mounts.find((m) => m.destination === "/sys")!.options!.includes("ro"));
  assert.deepEqual(s.linux.resources!.devices, [{ allow: true, access: "rwm" }]);
  assert.equal(s.linux.devices!.length, 1);
});

test("cap-add/cap-drop with and without CAP_ prefix, ALL, unknown", () => {
  const all = hostCapabilities(40);
  assert.deepEqual(tweakCapabilities({ adds: ["net_admin"], drops: ["CAP_CHOWN", "kill"], hostCaps: all }),
    [...DEFAULT_CAPABILITIES.filter((c) => c !== "CAP_CHOWN" && c !== "CAP_KILL"), "CAP_NET_ADMIN"]);
  assert.deepEqual(tweakCapabilities({ adds: ["chown"], drops: ["ALL"], hostCaps: all }), ["CAP_CHOWN"]);
  assert.equal(tweakCapabilities({ adds: ["ALL"], drops: ["sys_admin"], hostCaps: all }).length, 40);
  assert.throws(() => tweakCapabilities({ adds: ["bogus"], hostCaps: all }), (e) => isKind(e, "invalid-argument") && /unknown capability: "CAP_BOGUS"/.test((e as Error).message));
  assert.equal(hostCapabilities(37).length, 38);
  assert.ok(!hostCapabilities(40, [...Array(41).keys()].filter((i) => i !== 24)).includes("CAP_SYS_RESOURCE"));
});

test("security opts: no-new-privileges, seccomp unconfined and a custom profile as the CLI sends it", () => {
  assert.equal(spec({}, { SecurityOpt: ["no-new-privileges"] }).process.noNewPrivileges, true);
  assert.equal(spec({}, { SecurityOpt: ["seccomp=unconfined"] }).linux.seccomp, undefined);
  const custom = { defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["chmod"], action: "SCMP_ACT_ERRNO" }] };
  const s = spec({}, { SecurityOpt: [`seccomp=${JSON.stringify(custom)}`] }).linux.seccomp!;
  assert.equal(s.defaultAction, "SCMP_ACT_ALLOW");
  assert.deepEqual(s.syscalls, [{ names: ["chmod"], action: "SCMP_ACT_ERRNO" }]);
  assert.throws(() => parseSecurityOpts(["bogus"]), (e) => isKind(e, "invalid-argument"));
});

test("read-only rootfs, tmpfs, binds, init, host network, ulimits", () => {
  const s = spec({}, { ReadonlyRootfs: true, Tmpfs: { "/run": "size=1m" }, Binds: ["/srv:/data:ro"], Init: true, NetworkMode: "host", Ulimits: [{ Name: "nofile", Soft: 1024, Hard: 2048 }] });
  assert.equal(s.root.readonly, true);
  assert.ok(s.mounts.find((m) => m.destination === "/sys/fs/cgroup")!.options!.includes("ro"));
  assert.ok(!s.mounts.find((m) => m.destination === "/dev/shm")!.options!.includes("ro"));
  assert.deepEqual(s.mounts.find((m) => m.destination === "/run")!.options, ["nodev", "nosuid", "noexec", "size=1m", "rw", "rprivate"]);
  assert.deepEqual(s.mounts.find((m) => m.destination === "/data"), { destination: "/data", type: "bind", source: "/srv", options: ["rbind", "rprivate", "ro"] });
  assert.deepEqual(s.process.args.slice(0, 2), ["/sbin/docker-init", "--"]);
  assert.ok(!s.linux.namespaces!.some((n) => n.type === "network"));
  assert.deepEqual(s.process.rlimits, [{ type: "RLIMIT_NOFILE", soft: 1024, hard: 2048 }]);
  assert.throws(() => spec({}, { Ulimits: [{ Name: "nofile", Soft: 1, Hard: 1048576 }] }), (e) => isKind(e, "invalid-argument"));
  assert.throws(() => planMounts({ Binds: ["vol:/data"] }), (e) => isKind(e, "not-implemented"));
  assert.throws(() => planMounts({ Binds: ["/a:/x", "/b:/x"] }), (e) => isKind(e, "invalid-argument"));
});

test("entrypoint/cmd merge rules and env", () => {
  const image = { Entrypoint: ["/ep"], Cmd: ["a"], Env: ["PATH=/x", "B=2"], WorkingDir: "/w", User: "u" };
  assert.deepEqual(mergeConfig(image, { Image: "i" }).Cmd, ["a"]);
  const c1 = mergeConfig(image, { Image: "i", Cmd: ["b"] });
  assert.deepEqual([c1.Entrypoint, c1.Cmd], [["/ep"], ["b"]]);
  const c2 = mergeConfig(image, { Image: "i", Entrypoint: ["/other"] });
  assert.deepEqual([c2.Entrypoint, c2.Cmd], [["/other"], null]);
  const c3 = mergeConfig(image, { Image: "i", Env: ["B=3"] });
  assert.deepEqual(c3.Env, ["B=3", "PATH=/x"]);
  assert.equal(c3.WorkingDir, "/w");
  assert.equal(c3.User, "u");
  assert.throws(() => mergeConfig({}, { Image: "i" }), (e) => isKind(e, "invalid-argument") && (e as Error).message === "No command specified");
  assert.deepEqual(containerEnv({ Env: ["PATH=/x"], Tty: true }, "h"), ["PATH=/x", "HOSTNAME=h", "TERM=xterm"]);
});

test("signals", () => {
  assert.equal(parseSignal("SIGTERM"), 15);
  assert.equal(parseSignal("kill"), 9);
  assert.equal(parseSignal("10"), 10);
  assert.equal(parseSignal("SIGRTMIN+3"), 37);
  assert.throws(() => parseSignal("NOPE"), (e) => isKind(e, "invalid-argument"));
});
