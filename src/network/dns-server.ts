import { createSocket, type Socket } from "node:dgram";
import { createServer, type Server } from "node:net";
import { buildResponse, parseQuery, RCODE_NOERROR, RCODE_NXDOMAIN, RCODE_REFUSED, RCODE_SERVFAIL, TYPE_A, type DnsQuestion } from "./dns-message.js";
import type { Logger } from "../util/index.js";

/** Names a client may resolve: addresses for a name as seen from the client's address; null when unknown. */
export type DnsLookup = (clientIp: string, name: string) => string[] | null;

/** Forwards a raw query elsewhere (configured upstreams); undefined when forwarding is off. */
export type DnsForward = (query: Buffer) => Promise<Buffer | null>;

/**
 * The embedded resolver of one network, listening on its gateway address port 53 (UDP and TCP),
 * as podman's aardvark-dns does. Answers container names, aliases and short ids; other names go to
 * forward() when configured, else NXDOMAIN. Nothing ever goes to the host's resolver by default.
 */
export class EmbeddedDnsServer {
  #udp: Socket | null = null;
  #tcp: Server | null = null;

  constructor(readonly address: string, private readonly lookup: DnsLookup, private readonly forward?: DnsForward, private readonly log?: Logger, readonly port = 53) {}

  async start(): Promise<void> {
    const udp = createSocket({ type: "udp4", reuseAddr: true });
    udp.on("message", (msg, rinfo) => {
      void this.#answer(msg, rinfo.address).then((resp) => { if (resp) udp.send(resp, rinfo.port, rinfo.address); });
    });
    udp.on("error", (err) => this.log?.warn("dns udp error", { address: this.address, err }));
    await new Promise<void>((resolve, reject) => { udp.once("error", reject); udp.bind(this.port, this.address, () => { udp.off("error", reject); resolve(); }); });
    this.#udp = udp;
    const tcp = createServer((conn) => {
      let buf = Buffer.alloc(0);
      conn.on("data", (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
          const msg = buf.subarray(2, 2 + buf.readUInt16BE(0));
          buf = buf.subarray(2 + msg.length);
          void this.#answer(Buffer.from(msg), conn.remoteAddress?.replace(/^::ffff:/, "") ?? "").then((resp) => {
            if (!resp || conn.destroyed) return;
            const len = Buffer.alloc(2);
            len.writeUInt16BE(resp.length);
            conn.write(Buffer.concat([len, resp]));
          });
        }
        if (buf.length > 65537) conn.destroy();
      });
      conn.on("error", () => {});
      conn.setTimeout(10_000, () => conn.destroy());
    });
    try {
      await new Promise<void>((resolve, reject) => { tcp.once("error", reject); tcp.listen(this.port, this.address, () => { tcp.off("error", reject); resolve(); }); });
    } catch (err) {
      await this.stop();
      throw err;
    }
    this.#tcp = tcp;
  }

  async #answer(msg: Buffer, client: string): Promise<Buffer | null> {
    const q = parseQuery(msg);
    if (!q) return null;
    try {
      return await this.#resolve(q, msg, client);
    } catch (err) {
      this.log?.debug("dns answer failed", { err });
      return buildResponse(q, RCODE_SERVFAIL, []);
    }
  }

  async #resolve(q: DnsQuestion, msg: Buffer, client: string): Promise<Buffer | null> {
    if (q.cls !== 1) return buildResponse(q, RCODE_REFUSED, []);
    const name = q.name.replace(/\.$/, "");
    const ips = this.lookup(client, name);
    if (ips && ips.length) return buildResponse(q, RCODE_NOERROR, q.type === TYPE_A ? ips : []);
    if (this.forward) {
      const r = await this.forward(msg);
      if (r) return r;
    }
    return buildResponse(q, RCODE_NXDOMAIN, []);
  }

  async stop(): Promise<void> {
    const udp = this.#udp;
    const tcp = this.#tcp;
    this.#udp = null;
    this.#tcp = null;
    if (udp) await new Promise<void>((r) => udp.close(() => r()));
    if (tcp) await new Promise<void>((r) => tcp.close(() => r()));
  }
}
