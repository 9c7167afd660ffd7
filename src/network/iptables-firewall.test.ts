import { test } from "node:test";
import assert from "node:assert/strict";
import { chainNames, renderRules } from "./iptables-firewall.js";

test("firewall: rules declare (and so flush) every chain, isolate bridges, keep internal networks in", () => {
  const c = chainNames("BTX");
  const text = renderRules(c, {
    networks: [{ bridge: "br-a", subnet: "10.1.0.0/24", internal: false }, { bridge: "br-i", subnet: "10.2.0.0/24", internal: true }],
    ports: [{ proto: "tcp", hostIp: "127.0.0.1", hostPort: 8080, containerIp: "10.1.0.2", containerPort: 80 }, { proto: "udp", hostIp: "0.0.0.0", hostPort: 53, containerIp: "10.1.0.3", containerPort: 53 }],
  });
  for (const ch of Object.values(c)) assert.ok(text.includes(`:${ch} - [0:0]`), ch);
  assert.ok(text.includes("-A BTX-FORWARD -i br-a ! -o br-a -j ACCEPT"));
  assert.ok(!text.includes("-A BTX-FORWARD -i br-i ! -o br-i -j ACCEPT"));
  assert.ok(text.includes("-A BTX-ISOLATION-2 -o br-i -j DROP"));
  assert.ok(text.includes("-A BTX-POSTROUTING -s 10.1.0.0/24 ! -o br-a -j MASQUERADE"));
  assert.ok(!text.includes("-s 10.2.0.0/24 ! -o br-i -j MASQUERADE"));
  assert.ok(text.includes("-A BTX-DNAT -d 127.0.0.1/32 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 10.1.0.2:80"));
  assert.ok(text.includes("-A BTX-DNAT -p udp -m udp --dport 53 -j DNAT --to-destination 10.1.0.3:53"));
  assert.equal(text.match(/COMMIT/g)?.length, 2);
});
