import { test } from "node:test";
import assert from "node:assert/strict";
import { consolidateIpam, keyValues } from "./ipam-config.js";

test("consolidateIpam pairs ranges, gateways and aux addresses with their subnet", () => {
  assert.deepEqual(consolidateIpam(["10.1.0.0/16", "10.2.0.0/24"], ["10.2.0.128/25"], ["10.1.0.254"], { host: "10.2.0.5" }), [
    { Subnet: "10.1.0.0/16", Gateway: "10.1.0.254", AuxiliaryAddresses: {} },
    { Subnet: "10.2.0.0/24", IPRange: "10.2.0.128/25", AuxiliaryAddresses: { host: "10.2.0.5" } },
  ]);
  assert.deepEqual(consolidateIpam([], [], [], {}), []);
});

test("consolidateIpam refuses what docker's CLI refuses, with its wording", () => {
  assert.throws(() => consolidateIpam([], ["10.0.0.0/24"], [], {}), /^EngineError: every ip-range or gateway must have a corresponding subnet$/);
  assert.throws(() => consolidateIpam(["10.0.0.0/16", "10.0.1.0/24"], [], [], {}), /multiple overlapping subnet configuration is not allowed/);
  assert.throws(() => consolidateIpam(["10.98.0.0/24"], [], ["10.97.0.1"], {}), /^EngineError: no matching subnet for gateway 10.97.0.1$/);
  assert.throws(() => consolidateIpam(["10.98.0.0/24"], ["10.99.0.0/25"], [], {}), /no matching subnet for range 10.99.0.0\/25/);
  assert.throws(() => consolidateIpam(["10.98.0.0/24", "bad"], [], [], {}), /invalid subnet bad/);
  assert.throws(() => consolidateIpam(["10.98.0.0/24"], [], ["10.98.0.1", "10.98.0.2"], {}), /every ip-range or gateway/);
});

test("keyValues reads k=v flags, a bare key meaning an empty value", () => {
  assert.deepEqual(keyValues(["a=b", "c", "d=e=f"]), { a: "b", c: "", d: "e=f" });
});
