import { test } from "node:test";
import assert from "node:assert/strict";
import { buildResponse, parseQuery, RCODE_NOERROR, TYPE_A } from "./dns-message.js";

function query(name: string, type = TYPE_A): Buffer {
  const labels = name.split(".").map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)]));
  const h = Buffer.alloc(12);
  h.writeUInt16BE(0x1234, 0);
  h.writeUInt16BE(0x0100, 2);
  h.writeUInt16BE(1, 4);
  const tail = Buffer.alloc(4);
  tail.writeUInt16BE(type, 0);
  tail.writeUInt16BE(1, 2);
  return Buffer.concat([h, ...labels, Buffer.from([0]), tail]);
}

test("dns: parse a query and answer with A records", () => {
  const q = parseQuery(query("Web1.Net"))!;
  assert.equal(q.name, "web1.net");
  assert.equal(q.type, TYPE_A);
  const r = buildResponse(q, RCODE_NOERROR, ["10.1.2.3"]);
  assert.equal(r.readUInt16BE(0), 0x1234);
  assert.equal(r.readUInt16BE(2) & 0x8000, 0x8000);
  assert.equal(r.readUInt16BE(6), 1);
  assert.deepEqual([...r.subarray(r.length - 4)], [10, 1, 2, 3]);
  assert.equal(parseQuery(Buffer.alloc(5)), null);
  assert.equal(parseQuery(r), null, "responses are not queries");
});
