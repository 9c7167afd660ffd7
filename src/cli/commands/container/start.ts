import type { Command } from "../../command.js";
import { StatusError } from "../../command.js";
import { bool, string } from "../../flags.js";
import { followTerminalSize, proxySignals, pumpAttached } from "../../attach-session.js";
import { describeError } from "../../describe-error.js";

export const start: Command = {
  name: "container start",
  summary: "Start one or more stopped containers",
  usage: "[OPTIONS] CONTAINER [CONTAINER...]",
  minArgs: 1,
  flags: {
    attach: bool("a", "Attach STDOUT/STDERR and forward signals"),
    interactive: bool("i", "Attach container's STDIN"),
    "detach-keys": string("", "Override the key sequence for detaching a container"),
  },
  async run({ client, args, flags, out, stdin }) {
    if (flags.bool("attach") || flags.bool("interactive")) {
      if (args.length > 1) throw new StatusError("you cannot start and attach multiple containers at once", 1);
      const c = await client.containers.inspect(args[0]!);
      const id = c.Id;
      const withStdin = flags.bool("interactive") && Boolean(c.Config.OpenStdin);
      const conn = await client.containers.attach(id, { stream: true, stdin: withStdin, stdout: true, stderr: true, detachKeys: flags.string("detach-keys") || undefined });
      const waiting = client.containers.wait(id, { condition: "next-exit" });
      waiting.catch(() => {});
      const stopProxy = !c.Config.Tty ? proxySignals((sig) => client.containers.kill(id, sig)) : () => {};
      try {
        try {
          await client.containers.start(id);
        } catch (err) {
          conn.socket.destroy();
          throw new StatusError(describeError(err), 1);
        }
        const stopResize = c.Config.Tty ? followTerminalSize((h, w) => client.containers.resize(id, h, w)) : () => {};
        try {
          const { detached } = await pumpAttached(conn, { tty: Boolean(c.Config.Tty), stdin: withStdin ? stdin : null, stdout: out.stdout, stderr: out.stderr, detachKeys: flags.string("detach-keys") });
          if (detached) return 0;
        } finally {
          stopResize();
        }
        const status = await waiting;
        return status.StatusCode;
      } finally {
        stopProxy();
      }
    }
    const failed: string[] = [];
    for (const id of args) {
      try {
        await client.containers.start(id);
        out.line(id);
      } catch (err) {
        out.errorLine(describeError(err));
        failed.push(id);
      }
    }
    if (failed.length) throw new StatusError(`Error: failed to start containers: ${failed.join(", ")}`, 1);
  },
};
