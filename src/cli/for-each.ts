import type { Output } from "./output/output.js";
import { StatusError } from "./command.js";
import { describeError } from "./describe-error.js";

/** Runs op for each argument, echoing it on success; failures are printed and make the exit status 1. */
export async function forEachArg(args: string[], out: Output, op: (arg: string) => Promise<void>): Promise<void> {
  let failed = false;
  for (const arg of args) {
    try {
      await op(arg);
      out.line(arg);
    } catch (err) {
      out.errorLine(describeError(err));
      failed = true;
    }
  }
  if (failed) throw new StatusError("", 1);
}
