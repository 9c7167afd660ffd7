import type { OciSeccomp, SeccompFilter, SeccompProfile } from "../spec/oci-runtime.js";

/** Go's GOARCH name for Node's process.arch. */
export function goArch(nodeArch: string = process.arch): string {
  const map: Record<string, string> = { x64: "amd64", ia32: "386", arm64: "arm64", arm: "arm", ppc64: "ppc64le", s390x: "s390x", riscv64: "riscv64", loong64: "loong64", mips64el: "mips64le" };
  return map[nodeArch] ?? nodeArch;
}

const SECCOMP_ARCH: Record<string, string> = {
  "386": "SCMP_ARCH_X86", amd64: "SCMP_ARCH_X86_64", arm: "SCMP_ARCH_ARM", arm64: "SCMP_ARCH_AARCH64", ppc64le: "SCMP_ARCH_PPC64LE",
  s390x: "SCMP_ARCH_S390X", riscv64: "SCMP_ARCH_RISCV64", loong64: "SCMP_ARCH_LOONGARCH64", mips64le: "SCMP_ARCH_MIPSEL64",
};

/** Compare "6.18.44-foo" against "5.8": true when kernel >= min. */
export function kernelAtLeast(kernel: string, min: string): boolean {
  const parse = (s: string) => (s.match(/^(\d+)(?:\.(\d+))?/) ?? []).slice(1).map((x) => Number(x ?? 0));
  const [a1 = 0, a2 = 0] = parse(kernel);
  const [b1 = 0, b2 = 0] = parse(min);
  return a1 !== b1 ? a1 > b1 : a2 >= b2;
}

/**
 * A Docker seccomp profile template filtered for one container (moby/profiles seccomp_linux.go): rules are
 * kept when all includes hold and no exclude holds; caps are checked against the bounding set.
 */
const cache = new WeakMap<SeccompProfile, Map<string, OciSeccomp>>();

export function seccompForContainer(profile: SeccompProfile, opts: { caps: string[]; arch: string; kernel: string }): OciSeccomp {
  // The result only depends on these three inputs; the default profile is converted once per cap set.
  const key = `${opts.arch}|${opts.kernel}|${[...opts.caps].sort().join(",")}`;
  let byKey = cache.get(profile);
  if (!byKey) cache.set(profile, (byKey = new Map()));
  const hit = byKey.get(key);
  if (hit) return structuredClone(hit);
  const out = convert(profile, opts);
  if (byKey.size < 64) byKey.set(key, out);
  return structuredClone(out);
}

function convert(profile: SeccompProfile, opts: { caps: string[]; arch: string; kernel: string }): OciSeccomp {
  const out: OciSeccomp = { defaultAction: profile.defaultAction };
  if (profile.defaultErrnoRet !== undefined) out.defaultErrnoRet = profile.defaultErrnoRet;
  const native = SECCOMP_ARCH[opts.arch];
  const arches: string[] = [];
  if (profile.archMap?.length) {
    for (const a of profile.archMap) {
      if (a.architecture === native) arches.push(a.architecture, ...(a.subArchitectures ?? []));
    }
  } else if (profile.architectures) {
    arches.push(...profile.architectures);
  }
  if (arches.length) out.architectures = arches;
  if (profile.flags?.length) out.flags = [...profile.flags];
  const excluded = (f: SeccompFilter | undefined): boolean => {
    if (!f) return false;
    if (f.arches?.length && f.arches.includes(opts.arch)) return true;
    if (f.caps?.length && f.caps.some((c) => opts.caps.includes(c))) return true;
    if (f.minKernel && kernelAtLeast(opts.kernel, f.minKernel)) return true;
    return false;
  };
  const included = (f: SeccompFilter | undefined): boolean => {
    if (!f) return true;
    if (f.arches?.length && !f.arches.includes(opts.arch)) return false;
    if (f.caps?.length && !f.caps.every((c) => opts.caps.includes(c))) return false;
    if (f.minKernel && !kernelAtLeast(opts.kernel, f.minKernel)) return false;
    return true;
  };
  out.syscalls = [];
  for (const rule of profile.syscalls ?? []) {
    if (excluded(rule.excludes) || !included(rule.includes)) continue;
    const names = rule.names?.length ? [...rule.names] : rule.name ? [rule.name] : [];
    const s: OciSeccomp["syscalls"] extends (infer T)[] | undefined ? T : never = { names, action: rule.action };
    if (rule.errnoRet !== undefined) s.errnoRet = rule.errnoRet;
    if (rule.args?.length) s.args = rule.args.map((a) => ({ ...a }));
    out.syscalls.push(s);
  }
  return out;
}
