import type { Command } from "../../command.js";
import { bool, string } from "../../flags.js";
import { demux } from "../../../client/demux.js";
import { compareVersions } from "../../../client/transport.js";
import { timestampArg } from "../../output/parse-units.js";

export const logs: Command = {
  name: "container logs",
  summary: "Fetch the logs of a container",
  usage: "[OPTIONS] CONTAINER",
  minArgs: 1,
  maxArgs: 1,
  flags: {
    details: bool("", "Show extra details provided to logs"),
    follow: bool("f", "Follow log output"),
    since: string("", 'Show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)'),
    tail: string("n", 'Number of lines to show from the end of the logs', { default: "all" }),
    timestamps: bool("t", "Show timestamps"),
    until: string("", 'Show logs before a timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)'),
  },
  async run({ client, args, flags, out }) {
    const now = Date.now();
    const res = await client.containers.logs(args[0]!, {
      follow: flags.bool("follow"), timestamps: flags.bool("timestamps"), details: flags.bool("details"),
      tail: flags.string("tail"),
      since: flags.string("since") ? timestampArg(flags.string("since"), now) : undefined,
      until: flags.string("until") ? timestampArg(flags.string("until"), now) : undefined,
    });
    const type = String(res.headers["content-type"] ?? "");
    // the content type tells the framing only from API 1.42 on
    const typed = compareVersions(await client.transport.apiVersion(), "1.42") >= 0;
    let tty: boolean;
    if (typed && type === "application/vnd.docker.multiplexed-stream") tty = false;
    else if (typed && type === "application/vnd.docker.raw-stream") tty = true;
    else tty = Boolean((await client.containers.inspect(args[0]!)).Config.Tty);
    if (tty) {
      for await (const chunk of res) if (!out.stdout.write(chunk as Buffer)) await new Promise((r) => out.stdout.once("drain", r));
    } else {
      await demux(res, out.stdout, out.stderr);
    }
  },
};
