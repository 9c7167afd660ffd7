import { invalidArgument } from "../errdefs/index.js";
import type { OciUser } from "../spec/oci-runtime.js";

interface PasswdEntry { name: string; uid: number; gid: number }
interface GroupEntry { name: string; gid: number; members: string[] }

function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const line of text.split("\n")) {
    const f = line.trim().split(":");
    if (f.length < 4 || line.startsWith("#")) continue;
    const uid = Number(f[2]);
    const gid = Number(f[3]);
    if (Number.isInteger(uid) && Number.isInteger(gid)) out.push({ name: f[0]!, uid, gid });
  }
  return out;
}

function parseGroup(text: string): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const line of text.split("\n")) {
    const f = line.trim().split(":");
    if (f.length < 3 || line.startsWith("#")) continue;
    const gid = Number(f[2]);
    if (Number.isInteger(gid)) out.push({ name: f[0]!, gid, members: (f[3] ?? "").split(",").filter(Boolean) });
  }
  return out;
}

const isNum = (s: string) => /^\d+$/.test(s);

/**
 * Docker/libcontainer user resolution: "", "uid", "name", "uid:gid", "name:group" against the container's
 * /etc/passwd and /etc/group (null when missing), plus supplementary groups and --group-add.
 */
export function resolveUser(spec: string | undefined, passwd: string | null, group: string | null, groupAdd: string[] = []): OciUser {
  const users = passwd ? parsePasswd(passwd) : [];
  const groups = group ? parseGroup(group) : [];
  const [u = "", g] = (spec ?? "").split(":", 2) as [string?, string?];
  let uid = 0;
  let gid = 0;
  let name: string | undefined;
  if (u === "") {
    const root = users.find((e) => e.uid === 0);
    name = root?.name;
    gid = root?.gid ?? 0;
  } else if (isNum(u)) {
    uid = Number(u);
    const e = users.find((x) => x.uid === uid);
    if (e) { name = e.name; gid = e.gid; }
  } else {
    const e = users.find((x) => x.name === u);
    if (!e) throw invalidArgument(`unable to find user ${u}: no matching entries in passwd file`);
    uid = e.uid; gid = e.gid; name = e.name;
  }
  if (g !== undefined && g !== "") {
    if (isNum(g)) gid = Number(g);
    else {
      const e = groups.find((x) => x.name === g);
      if (!e) throw invalidArgument(`unable to find group ${g}: no matching entries in group file`);
      gid = e.gid;
    }
  }
  const extra: number[] = [];
  // Supplementary groups come from /etc/group only when no group was forced (libcontainer).
  if ((g === undefined || g === "") && name) {
    for (const e of groups) if (e.members.includes(name) && e.gid !== gid) extra.push(e.gid);
  }
  for (const a of groupAdd) {
    if (isNum(a)) extra.push(Number(a));
    else {
      const e = groups.find((x) => x.name === a);
      if (!e) throw invalidArgument(`Unable to find group ${a}: no matching entries in group file`);
      extra.push(e.gid);
    }
  }
  const user: OciUser = { uid, gid };
  const add = [...new Set(extra)];
  if (add.length) user.additionalGids = add;
  return user;
}
