import { writeFile } from "node:fs/promises";
import { execFileCapture } from "../sys/exec.js";
import { systemError } from "../errdefs/index.js";
import { invokeCni } from "./cni.js";
import type { DriverEndpoint, DriverNetwork, NetworkDriver } from "./network-driver.js";

/**
 * Linux bridges and veth pairs through the standard CNI bridge plugin, with addresses chosen by
 * Berth's IPAM and handed over through the static IPAM plugin. Firewalling and port publishing are
 * not done here (see IptablesFirewall), so every rule lives in Berth's own chains.
 */
export class CniBridgeDriver implements NetworkDriver {
  readonly name = "bridge";
  constructor(private readonly cniPath?: string) {}

  #config(net: DriverNetwork, ep: DriverEndpoint): Record<string, unknown> {
    return {
      name: net.id.slice(0, 12),
      type: "bridge",
      bridge: net.bridge,
      isGateway: true,
      ipMasq: false,
      hairpinMode: true,
      ...(net.mtu ? { mtu: net.mtu } : {}),
      ipam: {
        type: "static",
        addresses: [{ address: `${ep.ip}/${ep.prefixLen}`, gateway: net.gateway }],
        // An internal network gets no default route: there is no way out.
        routes: net.internal ? [] : [{ dst: "0.0.0.0/0" }],
      },
    };
  }

  async createNetwork(net: DriverNetwork): Promise<void> {
    const prefix = net.subnet.split("/")[1];
    const show = await execFileCapture("ip", ["-o", "addr", "show", "dev", net.bridge]);
    if (show.code !== 0) {
      const add = await execFileCapture("ip", ["link", "add", "name", net.bridge, "type", "bridge"]);
      if (add.code !== 0 && !/exists/i.test(add.stderr)) throw systemError(`create bridge ${net.bridge}: ${add.stderr.trim()}`);
    }
    if (!show.stdout.includes(` ${net.gateway}/${prefix} `)) {
      const addr = await execFileCapture("ip", ["addr", "add", `${net.gateway}/${prefix}`, "dev", net.bridge]);
      if (addr.code !== 0 && !/exists/i.test(addr.stderr)) throw systemError(`address bridge ${net.bridge}: ${addr.stderr.trim()}`);
    }
    if (net.mtu) await execFileCapture("ip", ["link", "set", net.bridge, "mtu", String(net.mtu)]);
    const up = await execFileCapture("ip", ["link", "set", net.bridge, "up"]);
    if (up.code !== 0) throw systemError(`bring up bridge ${net.bridge}: ${up.stderr.trim()}`);
    // Published ports on 127.0.0.1 are DNATed onto this bridge; the kernel drops such packets unless allowed.
    await writeFile(`/proc/sys/net/ipv4/conf/${net.bridge}/route_localnet`, "1").catch(() => {});
  }

  async deleteNetwork(net: DriverNetwork): Promise<void> {
    const r = await execFileCapture("ip", ["link", "del", net.bridge]);
    if (r.code !== 0 && !/Cannot find device|does not exist/i.test(r.stderr)) throw systemError(`delete bridge ${net.bridge}: ${r.stderr.trim()}`);
  }

  async join(net: DriverNetwork, ep: DriverEndpoint): Promise<{ mac: string }> {
    const res = await invokeCni("bridge", "ADD", {
      containerId: ep.containerId, netns: ep.netnsPath, ifName: ep.ifName, ...(this.cniPath ? { cniPath: this.cniPath } : {}),
      ...(ep.mac ? { args: `IgnoreUnknown=1;MAC=${ep.mac}` } : {}),
    }, this.#config(net, ep));
    const iface = res?.interfaces?.find((i) => i.name === ep.ifName && i.sandbox);
    return { mac: iface?.mac ?? ep.mac ?? "" };
  }

  async leave(net: DriverNetwork, ep: DriverEndpoint): Promise<void> {
    await invokeCni("bridge", "DEL", { containerId: ep.containerId, netns: ep.netnsPath, ifName: ep.ifName, ...(this.cniPath ? { cniPath: this.cniPath } : {}) }, this.#config(net, ep));
  }
}
