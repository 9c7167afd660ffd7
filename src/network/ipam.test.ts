import { test } from "node:test";
import assert from "node:assert/strict";
import { allocate, release, type IpamState } from "./ipam.js";
import { carve, overlaps, parseCidr, formatCidr } from "./ipv4.js";

test("ipv4: parse, refuse host bits, overlap, carve", () => {
  assert.equal(formatCidr(parseCidr("10.1.2.0/24")), "10.1.2.0/24");
  assert.throws(() => parseCidr("10.1.2.3/24"), /should be 10\.1\.2\.0\/24/);
  assert.throws(() => parseCidr("10.1.2.0/33"), /invalid CIDR/);
  assert.throws(() => parseCidr("300.1.2.0/24"), /invalid CIDR/);
  assert.ok(overlaps(parseCidr("10.0.0.0/8"), parseCidr("10.9.0.0/16")));
  assert.ok(!overlaps(parseCidr("10.1.0.0/24"), parseCidr("10.1.1.0/24")));
  assert.deepEqual([...carve(parseCidr("10.2.0.0/23"), 24)].map(formatCidr), ["10.2.0.0/24", "10.2.1.0/24"]);
});

test("ipam: skips gateway, never hands out twice, does not reuse a released address at once, honours requests", () => {
  let s: IpamState = { subnet: "10.9.0.0/29", gateway: "10.9.0.1", allocated: {} };
  const got: string[] = [];
  for (let i = 0; i < 5; i++) { const r = allocate(s, `c${i}`); s = r.state; got.push(r.ip); }
  assert.deepEqual(got, ["10.9.0.2", "10.9.0.3", "10.9.0.4", "10.9.0.5", "10.9.0.6"]);
  assert.throws(() => allocate(s, "x"), /no available IPv4 addresses/);
  s = release(s, "10.9.0.3");
  s = release(s, "10.9.0.5");
  const r = allocate(s, "y");
  assert.equal(r.ip, "10.9.0.3");
  assert.equal(allocate(r.state, "z").ip, "10.9.0.5");
  assert.throws(() => allocate(s, "q", "10.9.0.2"), /Address already in use/);
  assert.throws(() => allocate(s, "q", "10.9.0.1"), /Address already in use/);
  assert.throws(() => allocate(s, "q", "10.8.0.9"), /does not belong/);
  assert.equal(allocate(s, "q", "10.9.0.5").ip, "10.9.0.5");
  const ranged = allocate({ subnet: "10.9.0.0/24", ipRange: "10.9.0.128/25", gateway: "10.9.0.1", allocated: {} }, "r");
  assert.equal(ranged.ip, "10.9.0.128");
});
