import type { Command } from "../../command.js";
import { StatusError } from "../../command.js";
import { bool, string } from "../../flags.js";
import { followTerminalSize, proxySignals, pumpAttached } from "../../attach-session.js";

export const attach: Command = {
  name: "container attach",
  summary: "Attach local standard input, output, and error streams to a running container",
  usage: "[OPTIONS] CONTAINER",
  minArgs: 1,
  maxArgs: 1,
  flags: {
    "detach-keys": string("", "Override the key sequence for detaching a container"),
    "no-stdin": bool("", "Do not attach STDIN"),
    "sig-proxy": bool("", "Proxy all received signals to the process", { default: true }),
  },
  async run({ client, args, flags, out, stdin }) {
    const c = await client.containers.inspect(args[0]!);
    if (!c.State.Running) throw new StatusError("You cannot attach to a stopped container, start it first", 1);
    if (c.State.Paused) throw new StatusError("You cannot attach to a paused container, unpause it first", 1);
    const withStdin = !flags.bool("no-stdin") && Boolean(c.Config.OpenStdin);
    const conn = await client.containers.attach(c.Id, { stream: true, stdin: withStdin, stdout: true, stderr: true, detachKeys: flags.string("detach-keys") || undefined });
    const stopProxy = !c.Config.Tty && flags.bool("sig-proxy") ? proxySignals((sig) => client.containers.kill(c.Id, sig)) : () => {};
    const stopResize = c.Config.Tty ? followTerminalSize((h, w) => client.containers.resize(c.Id, h, w)) : () => {};
    try {
      const { detached } = await pumpAttached(conn, { tty: Boolean(c.Config.Tty), stdin: withStdin ? stdin : null, stdout: out.stdout, stderr: out.stderr, detachKeys: flags.string("detach-keys") });
      if (detached) return 0;
    } finally {
      stopResize();
      stopProxy();
    }
    const after = await client.containers.inspect(c.Id);
    return after.State.Running ? 0 : after.State.ExitCode;
  },
};
