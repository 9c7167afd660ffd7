import { test } from "node:test";
import assert from "node:assert/strict";
import { portRequests } from "./port-publisher.js";

test("ports: bindings, ranges, -P for exposed ports not bound", () => {
  const r = portRequests({ "80/tcp": [{ HostIp: "127.0.0.1", HostPort: "8080" }], "53/udp": [{ HostPort: "5300-5310" }], "81": null }, true, { "80/tcp": {}, "443/tcp": {} });
  // "81" is an integer-like key: JavaScript orders it first.
  assert.deepEqual(r, [
    { proto: "tcp", containerPort: 81, hostIp: "", hostPortLo: 0, hostPortHi: 0 },
    { proto: "tcp", containerPort: 80, hostIp: "127.0.0.1", hostPortLo: 8080, hostPortHi: 8080 },
    { proto: "udp", containerPort: 53, hostIp: "", hostPortLo: 5300, hostPortHi: 5310 },
    { proto: "tcp", containerPort: 443, hostIp: "", hostPortLo: 0, hostPortHi: 0 },
  ]);
  assert.throws(() => portRequests({ "80/xyz": [] }, false, null), /invalid port/);
  assert.throws(() => portRequests({ "80/tcp": [{ HostPort: "9-1" }] }, false, null), /invalid hostPort/);
});
