import { readFileSync } from "node:fs";
import { invalidArgument } from "../errdefs/index.js";
import { StatusError } from "./command.js";
import type { ContainerCreateBody, HostConfig, MountSpec, PortBinding, RestartPolicy } from "../spec/engine.js";
import { bool, float, int, string, strings, type FlagDefs, type Flags } from "./flags.js";
import { parseGoDuration, ramInBytes } from "./output/parse-units.js";

/** The flags docker create and docker run share. */
export const CREATE_FLAGS: FlagDefs = {
  "add-host": strings("", "Add a custom host-to-IP mapping (host:ip)"),
  attach: strings("a", "Attach to STDIN, STDOUT or STDERR"),
  "cap-add": strings("", "Add Linux capabilities"),
  "cap-drop": strings("", "Drop Linux capabilities"),
  cidfile: string("", "Write the container ID to the file"),
  cpus: float("", "Number of CPUs", { valueName: "decimal" }),
  "cpu-shares": int("c", "CPU shares (relative weight)"),
  device: strings("", "Add a host device to the container"),
  dns: strings("", "Set custom DNS servers"),
  "dns-search": strings("", "Set custom DNS search domains"),
  "dns-option": strings("", "Set DNS options"),
  entrypoint: string("", "Overwrite the default ENTRYPOINT of the image"),
  env: strings("e", "Set environment variables"),
  "env-file": strings("", "Read in a file of environment variables"),
  expose: strings("", "Expose a port or a range of ports"),
  "group-add": strings("", "Add additional groups to join"),
  "health-cmd": string("", "Command to run to check health"),
  "health-interval": string("", "Time between running the check (ms|s|m|h) (default 0s)", { valueName: "duration" }),
  "health-on-failure": string("", "Action on an unhealthy container: none, kill, restart or stop (Berth extension)"),
  "health-retries": int("", "Consecutive failures needed to report unhealthy"),
  "health-start-interval": string("", "Time between running the check during the start period (ms|s|m|h) (default 0s)", { valueName: "duration" }),
  "health-start-period": string("", "Start period for the container to initialize before starting health-retries countdown (ms|s|m|h) (default 0s)", { valueName: "duration" }),
  "health-timeout": string("", "Maximum time to allow one check to run (ms|s|m|h) (default 0s)", { valueName: "duration" }),
  hostname: string("h", "Container host name"),
  init: bool("", "Run an init inside the container that forwards signals and reaps processes"),
  interactive: bool("i", "Keep STDIN open even if not attached"),
  ip: string("", "IPv4 address (e.g., 172.30.100.104)"),
  ipc: string("", "IPC mode to use"),
  label: strings("l", "Set meta data on a container"),
  "label-file": strings("", "Read in a line delimited file of labels"),
  "log-driver": string("", "Logging driver for the container"),
  "log-opt": strings("", "Log driver options"),
  memory: string("m", "Memory limit", { valueName: "bytes" }),
  "memory-swap": string("", "Swap limit equal to memory plus swap: '-1' to enable unlimited swap", { valueName: "bytes" }),
  mount: strings("", "Attach a filesystem mount to the container", { valueName: "mount" }),
  name: string("", "Assign a name to the container"),
  network: string("", "Connect a container to a network", { valueName: "network" }),
  net: string("", "Connect a container to a network", { hidden: true }),
  "network-alias": strings("", "Add network-scoped alias for the container"),
  "no-healthcheck": bool("", "Disable any container-specified HEALTHCHECK"),
  "oom-kill-disable": bool("", "Disable OOM Killer"),
  pid: string("", "PID namespace to use"),
  "pids-limit": int("", "Tune container pids limit (set -1 for unlimited)"),
  platform: string("", "Set platform if server is multi-platform capable"),
  privileged: bool("", "Give extended privileges to this container"),
  publish: strings("p", "Publish a container's port(s) to the host"),
  "publish-all": bool("P", "Publish all exposed ports to random ports"),
  pull: string("", 'Pull image before running ("always", "missing", "never")', { default: "missing" }),
  quiet: bool("q", "Suppress the pull output"),
  "read-only": bool("", "Mount the container's root filesystem as read only"),
  restart: string("", "Restart policy to apply when a container exits", { default: "no" }),
  rm: bool("", "Automatically remove the container and its associated anonymous volumes when it exits"),
  runtime: string("", "Runtime to use for this container"),
  "security-opt": strings("", "Security Options"),
  "shm-size": string("", "Size of /dev/shm", { valueName: "bytes" }),
  "stop-signal": string("", "Signal to stop the container"),
  "stop-timeout": int("", "Timeout (in seconds) to stop a container"),
  "storage-opt": strings("", "Storage driver options for the container"),
  sysctl: strings("", "Sysctl options", { valueName: "map" }),
  tmpfs: strings("", "Mount a tmpfs directory"),
  tty: bool("t", "Allocate a pseudo-TTY"),
  ulimit: strings("", "Ulimit options", { valueName: "ulimit" }),
  user: string("u", "Username or UID (format: <name|uid>[:<group|gid>])"),
  userns: string("", "User namespace to use"),
  uts: string("", "UTS namespace to use"),
  volume: strings("v", "Bind mount a volume"),
  "volumes-from": strings("", "Mount volumes from the specified container(s)"),
  workdir: string("w", "Working directory inside the container"),
};

function keyValue(s: string): [string, string] {
  const eq = s.indexOf("=");
  return eq < 0 ? [s, ""] : [s.slice(0, eq), s.slice(eq + 1)];
}

/** Lines of an env or label file: blank lines and # comments skipped, bare names taken from our environment. */
export function readKeyValueFile(path: string, env: NodeJS.ProcessEnv, fromEnv: boolean): string[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw invalidArgument(`open ${path}: ${(err as NodeJS.ErrnoException).code === "ENOENT" ? "no such file or directory" : (err as Error).message}`);
  }
  const out: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/^\s+/, "");
    if (!line || line.startsWith("#")) continue;
    const [k, v] = keyValue(line);
    if (/\s/.test(k)) throw invalidArgument(`variable '${k}' contains whitespaces`);
    if (!line.includes("=") && fromEnv) { if (env[k] !== undefined) out.push(`${k}=${env[k]}`); continue; }
    out.push(line.includes("=") ? `${k}=${v}` : k);
  }
  return out;
}

export function parseRestartPolicy(s: string): RestartPolicy {
  if (!s) return { Name: "no" };
  const [name, count] = s.split(":");
  if (!["no", "always", "unless-stopped", "on-failure"].includes(name!)) throw invalidArgument(`invalid restart policy '${s}'`);
  if (count !== undefined) {
    if (name !== "on-failure") throw invalidArgument(`invalid restart policy format: maximum retry count can only be used with 'on-failure'`);
    if (!/^\d+$/.test(count)) throw invalidArgument(`invalid restart policy format: maximum retry count must be an integer`);
    return { Name: "on-failure", MaximumRetryCount: Number(count) };
  }
  return { Name: name as RestartPolicy["Name"] };
}

function portRange(s: string): [number, number] {
  const m = /^(\d+)(?:-(\d+))?$/.exec(s);
  if (!m) throw invalidArgument(`invalid containerPort: ${s}`);
  const a = Number(m[1]), b = m[2] ? Number(m[2]) : a;
  if (a > 65535 || b > 65535 || b < a) throw invalidArgument(`invalid port range: ${s}`);
  return [a, b];
}

/** nat.ParsePortSpecs: "80", "8080:80", "127.0.0.1:8080:80/udp", "[::1]::80", ranges. */
export function parsePortSpecs(specs: string[]): { exposed: Record<string, object>; bindings: Record<string, PortBinding[]> } {
  const exposed: Record<string, object> = {};
  const bindings: Record<string, PortBinding[]> = {};
  for (const spec of specs) {
    let rest = spec, proto = "tcp";
    const slash = rest.lastIndexOf("/");
    if (slash >= 0) { proto = rest.slice(slash + 1).toLowerCase(); rest = rest.slice(0, slash); }
    if (!["tcp", "udp", "sctp"].includes(proto)) throw invalidArgument(`invalid proto: ${proto}`);
    const lastColon = rest.lastIndexOf(":");
    const containerPart = rest.slice(lastColon + 1);
    let hostIp = "", hostPart = "";
    if (lastColon >= 0) {
      const before = rest.slice(0, lastColon);
      const c = before.lastIndexOf(":");
      if (c >= 0 && !before.endsWith("]")) { hostIp = before.slice(0, c); hostPart = before.slice(c + 1); }
      else if (before.startsWith("[")) { hostIp = before; }
      else hostPart = before;
    }
    hostIp = hostIp.replace(/^\[|\]$/g, "");
    const [cStart, cEnd] = portRange(containerPart);
    const hostRange = hostPart ? portRange(hostPart) : undefined;
    if (hostRange && hostRange[1] - hostRange[0] !== cEnd - cStart && cEnd !== cStart) {
      throw invalidArgument(`invalid ranges specified for container and host Ports: ${containerPart} and ${hostPart}`);
    }
    for (let p = cStart; p <= cEnd; p++) {
      const key = `${p}/${proto}`;
      exposed[key] = {};
      let hostPort = "";
      if (hostRange) hostPort = cEnd === cStart && hostRange[0] !== hostRange[1] ? hostPart : String(hostRange[0] + (p - cStart));
      (bindings[key] ??= []).push({ HostIp: hostIp, HostPort: hostPort });
    }
  }
  return { exposed, bindings };
}

/** --mount type=bind,source=/a,target=/b,readonly */
export function parseMount(spec: string): MountSpec {
  const m: MountSpec = { Type: "volume", Target: "" };
  for (const field of spec.split(",")) {
    const [rawKey, value] = keyValue(field);
    const key = rawKey.trim().toLowerCase();
    const hasValue = field.includes("=");
    const boolValue = () => (!hasValue || ["1", "true"].includes(value.toLowerCase()));
    switch (key) {
      case "type": m.Type = value as MountSpec["Type"]; break;
      case "source": case "src": m.Source = value; break;
      case "target": case "destination": case "dst": m.Target = value; break;
      case "readonly": case "ro": m.ReadOnly = boolValue(); break;
      case "consistency": m.Consistency = value; break;
      case "bind-propagation": m.BindOptions = { ...m.BindOptions, Propagation: value }; break;
      case "bind-nonrecursive": m.BindOptions = { ...m.BindOptions, NonRecursive: boolValue() }; break;
      case "bind-create-mountpoint": m.BindOptions = { ...m.BindOptions, CreateMountpoint: boolValue() }; break;
      case "volume-nocopy": m.VolumeOptions = { ...m.VolumeOptions, NoCopy: boolValue() }; break;
      case "volume-subpath": m.VolumeOptions = { ...m.VolumeOptions, Subpath: value }; break;
      case "volume-label": { const [k, v] = keyValue(value); m.VolumeOptions = { ...m.VolumeOptions, Labels: { ...m.VolumeOptions?.Labels, [k]: v } }; break; }
      case "volume-driver": m.VolumeOptions = { ...m.VolumeOptions, DriverConfig: { ...m.VolumeOptions?.DriverConfig, Name: value } }; break;
      case "volume-opt": {
        const [k, v] = keyValue(value);
        const dc = m.VolumeOptions?.DriverConfig ?? {};
        m.VolumeOptions = { ...m.VolumeOptions, DriverConfig: { ...dc, Options: { ...dc.Options, [k]: v } } };
        break;
      }
      case "tmpfs-size": m.TmpfsOptions = { ...m.TmpfsOptions, SizeBytes: ramInBytes(value) }; break;
      case "tmpfs-mode": m.TmpfsOptions = { ...m.TmpfsOptions, Mode: Number.parseInt(value, 8) }; break;
      default: throw invalidArgument(`unexpected key '${key}' in '${field}'`);
    }
  }
  if (!m.Target) throw invalidArgument("target is required");
  return m;
}

function durationNs(flags: Flags, name: string): number | undefined {
  return flags.changed(name) ? Math.round(parseGoDuration(flags.string(name)) * 1e6) : undefined;
}

/** The docker CLI's healthcheck flags: nothing unless one is given; --no-healthcheck alone. */
function healthConfig(flags: Flags): ContainerCreateBody["Healthcheck"] {
  const durations = ["health-interval", "health-timeout", "health-start-period", "health-start-interval"] as const;
  const ns = Object.fromEntries(durations.map((f) => [f, durationNs(flags, f) ?? 0])) as Record<(typeof durations)[number], number>;
  const retries = flags.changed("health-retries") ? flags.int("health-retries") : 0;
  for (const f of durations) if (ns[f] < 0) throw invalidArgument(`--${f} cannot be negative`);
  if (retries < 0) throw invalidArgument("--health-retries cannot be negative");
  const cmd = flags.string("health-cmd");
  const any = cmd !== "" || retries !== 0 || durations.some((f) => ns[f] !== 0);
  if (flags.bool("no-healthcheck")) {
    if (any) throw invalidArgument("--no-healthcheck conflicts with --health-* options");
    return { Test: ["NONE"] };
  }
  if (!any) return undefined;
  // Zero fields are left out, as the docker CLI's omitempty does: they mean "inherit".
  return {
    ...(cmd ? { Test: ["CMD-SHELL", cmd] } : {}),
    ...(ns["health-interval"] ? { Interval: ns["health-interval"] } : {}), ...(ns["health-timeout"] ? { Timeout: ns["health-timeout"] } : {}),
    ...(ns["health-start-period"] ? { StartPeriod: ns["health-start-period"] } : {}),
    ...(ns["health-start-interval"] ? { StartInterval: ns["health-start-interval"] } : {}), ...(retries ? { Retries: retries } : {}),
  };
}

function stringMap(items: string[]): Record<string, string> {
  return Object.fromEntries(items.map(keyValue));
}

export interface CreatePlan {
  body: ContainerCreateBody;
  name: string;
  platform: string;
  image: string;
}

/** Turns run/create flags and arguments into POST /containers/create, as the docker CLI does. */
export function buildCreateBody(flags: Flags, args: string[], env: NodeJS.ProcessEnv, opts: { detach?: boolean } = {}): CreatePlan {
  const [image, ...cmd] = args;
  const attach = flags.strings("attach").map((s) => s.toLowerCase());
  for (const a of attach) if (!["stdin", "stdout", "stderr"].includes(a)) throw invalidArgument(`invalid argument "${a}" for "-a, --attach" flag: valid streams are STDIN, STDOUT and STDERR`);
  const interactive = flags.bool("interactive");
  let attachStdin = attach.includes("stdin") || interactive;
  let attachStdout = attach.length ? attach.includes("stdout") : true;
  let attachStderr = attach.length ? attach.includes("stderr") : true;
  if (opts.detach) {
    if (attach.length) throw new StatusError("conflicting options: cannot specify both --attach and --detach", 1, true);
    attachStdin = attachStdout = attachStderr = false;
  }

  const envList = [
    ...flags.strings("env-file").flatMap((f) => readKeyValueFile(f, env, true)),
    ...flags.strings("env").map((e) => (e.includes("=") || env[e] === undefined ? e : `${e}=${env[e]}`)),
  ];
  const labels = stringMap([...flags.strings("label-file").flatMap((f) => readKeyValueFile(f, env, false)), ...flags.strings("label")]);

  const ports = parsePortSpecs(flags.strings("publish"));
  const exposed = { ...ports.exposed };
  for (const e of flags.strings("expose")) {
    const [p, proto = "tcp"] = e.split("/");
    const [a, b] = portRange(p!);
    for (let i = a; i <= b; i++) exposed[`${i}/${proto}`] = {};
  }

  const binds: string[] = [];
  const volumes: Record<string, object> = {};
  for (const v of flags.strings("volume")) {
    const parts = v.split(":");
    if (parts.length === 1) {
      if (!v.startsWith("/")) throw invalidArgument(`invalid volume specification: '${v}': invalid mount config for type "volume": invalid mount path: '${v}' mount path must be absolute`);
      volumes[v] = {};
    } else if (parts.length <= 3) binds.push(v);
    else throw invalidArgument(`invalid volume specification: '${v}'`);
  }

  const tmpfs: Record<string, string> = {};
  for (const t of flags.strings("tmpfs")) {
    const c = t.indexOf(":");
    tmpfs[c < 0 ? t : t.slice(0, c)] = c < 0 ? "" : t.slice(c + 1);
  }

  const securityOpt = flags.strings("security-opt").map((opt) => {
    const [k, v] = opt.includes("=") ? keyValue(opt) : [opt.slice(0, opt.indexOf(":")), opt.slice(opt.indexOf(":") + 1)];
    if (k === "seccomp" && v !== "unconfined" && v !== "builtin") {
      let text: string;
      try { text = readFileSync(v, "utf8"); } catch (err) { throw invalidArgument(`opening seccomp profile (${v}) failed: ${(err as Error).message}`); }
      let compact: string;
      try { compact = JSON.stringify(JSON.parse(text)); } catch (err) { throw invalidArgument(`compacting json for seccomp profile (${v}) failed: ${(err as Error).message}`); }
      return `seccomp=${compact}`;
    }
    return opt;
  });

  const ulimits = flags.strings("ulimit").map((u) => {
    const [name, limits = ""] = keyValue(u);
    const [soft, hard = soft] = limits.split(":");
    if (!name || !/^-?\d+$/.test(soft ?? "") || !/^-?\d+$/.test(hard ?? "")) throw invalidArgument(`invalid ulimit argument: ${u}`);
    return { Name: name, Soft: Number(soft), Hard: Number(hard) };
  });

  const devices = flags.strings("device").map((d) => {
    const [src, dst = src, perms = "rwm"] = d.split(":");
    return { PathOnHost: src!, PathInContainer: dst!, CgroupPermissions: perms };
  });

  let entrypoint: string[] | undefined;
  if (flags.string("entrypoint")) entrypoint = [flags.string("entrypoint")];
  else if (flags.changed("entrypoint")) entrypoint = [""];

  const healthcheck = healthConfig(flags);
  const healthOnFailure = flags.string("health-on-failure");
  if (healthOnFailure && !["none", "kill", "restart", "stop"].includes(healthOnFailure)) {
    throw invalidArgument(`invalid argument "${healthOnFailure}" for "--health-on-failure" flag: use one of none, kill, restart or stop`);
  }

  const network = flags.string("network") || flags.string("net");
  const hostConfig: HostConfig = {
    Binds: binds.length ? binds : null,
    ContainerIDFile: flags.string("cidfile"),
    LogConfig: { Type: flags.string("log-driver"), Config: stringMap(flags.strings("log-opt")) },
    NetworkMode: network || "default",
    PortBindings: ports.bindings,
    RestartPolicy: parseRestartPolicy(flags.string("restart")),
    AutoRemove: flags.bool("rm"),
    VolumesFrom: flags.strings("volumes-from").length ? flags.strings("volumes-from") : null,
    CapAdd: flags.strings("cap-add").length ? flags.strings("cap-add") : null,
    CapDrop: flags.strings("cap-drop").length ? flags.strings("cap-drop") : null,
    Dns: flags.strings("dns"), DnsOptions: flags.strings("dns-option"), DnsSearch: flags.strings("dns-search"),
    ExtraHosts: flags.strings("add-host").length ? flags.strings("add-host") : null,
    GroupAdd: flags.strings("group-add").length ? flags.strings("group-add") : null,
    IpcMode: flags.string("ipc"),
    PidMode: flags.string("pid"),
    UTSMode: flags.string("uts"),
    UsernsMode: flags.string("userns"),
    Privileged: flags.bool("privileged"),
    PublishAllPorts: flags.bool("publish-all"),
    ReadonlyRootfs: flags.bool("read-only"),
    SecurityOpt: securityOpt.length ? securityOpt : null,
    StorageOpt: flags.strings("storage-opt").length ? stringMap(flags.strings("storage-opt")) : null,
    Tmpfs: Object.keys(tmpfs).length ? tmpfs : null,
    Sysctls: flags.strings("sysctl").length ? stringMap(flags.strings("sysctl")) : null,
    Runtime: flags.string("runtime") || undefined,
    ShmSize: flags.changed("shm-size") ? ramInBytes(flags.string("shm-size")) : undefined,
    Init: flags.changed("init") ? flags.bool("init") : null,
    Mounts: flags.strings("mount").length ? flags.strings("mount").map(parseMount) : null,
    CpuShares: flags.int("cpu-shares"),
    NanoCpus: flags.changed("cpus") ? Math.round(flags.float("cpus") * 1e9) : 0,
    Memory: flags.changed("memory") ? ramInBytes(flags.string("memory")) : 0,
    MemorySwap: flags.changed("memory-swap") ? (flags.string("memory-swap") === "-1" ? -1 : ramInBytes(flags.string("memory-swap"))) : 0,
    OomKillDisable: flags.changed("oom-kill-disable") ? flags.bool("oom-kill-disable") : null,
    PidsLimit: flags.changed("pids-limit") ? flags.int("pids-limit") : null,
    Ulimits: ulimits.length ? ulimits : null,
    Devices: devices.length ? devices : null,
    ...(healthOnFailure ? { HealthOnFailure: healthOnFailure as NonNullable<HostConfig["HealthOnFailure"]> } : {}),
  };

  const aliases = flags.strings("network-alias");
  const ip = flags.string("ip");
  const endpointName = network && network !== "default" ? network : "";
  const body: ContainerCreateBody = {
    Hostname: flags.string("hostname"),
    Domainname: "",
    User: flags.string("user"),
    AttachStdin: attachStdin,
    AttachStdout: attachStdout,
    AttachStderr: attachStderr,
    ExposedPorts: Object.keys(exposed).length ? exposed : undefined,
    Tty: flags.bool("tty"),
    OpenStdin: interactive,
    StdinOnce: attachStdin,
    Env: envList,
    Cmd: cmd.length ? cmd : null,
    Healthcheck: healthcheck,
    Image: image!,
    Volumes: Object.keys(volumes).length ? volumes : undefined,
    WorkingDir: flags.string("workdir"),
    Entrypoint: entrypoint,
    Labels: labels,
    StopSignal: flags.string("stop-signal") || undefined,
    StopTimeout: flags.changed("stop-timeout") ? flags.int("stop-timeout") : undefined,
    HostConfig: hostConfig,
    NetworkingConfig: endpointName && (aliases.length || ip)
      ? { EndpointsConfig: { [endpointName]: { Aliases: aliases.length ? aliases : undefined, IPAMConfig: ip ? { IPv4Address: ip } : undefined } } }
      : {},
  };
  return { body, name: flags.string("name"), platform: flags.string("platform"), image: image! };
}
