/** Asks on stdout and reads one answer line from stdin: only y/yes confirms. */
export async function confirm(question: string, stdin: NodeJS.ReadStream, stdout: NodeJS.WritableStream): Promise<boolean> {
  stdout.write(`${question} [y/N] `);
  const answer = await new Promise<string>((resolve) => {
    let buf = "";
    const onData = (d: Buffer) => {
      buf += d.toString("utf8");
      const nl = buf.indexOf("\n");
      if (nl >= 0) { done(buf.slice(0, nl)); }
    };
    const done = (s: string) => { stdin.off("data", onData); stdin.off("end", onEnd); stdin.pause(); resolve(s); };
    const onEnd = () => done(buf);
    stdin.on("data", onData);
    stdin.once("end", onEnd);
    stdin.resume();
  });
  return ["y", "yes"].includes(answer.trim().toLowerCase());
}
