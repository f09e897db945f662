// A function that needs system packages: `nano-modal run examples/deps.ts`.
// The first run builds the Debian image with jq (its log streams here);
// later runs reuse it at once. Needs the docker runner.
import { App, Image } from "@nano/modal";

const app = new App("deps");

const image = Image.debianSlim()
  .aptInstall("jq")
  .runCommands("jq --version > /etc/jq-version")
  .env({ GREETING: "hello from the image" });

export const jqName = app.function(
  { image, memoryMiB: 256 },
  async function jqName(json: string): Promise<string> {
    const jq = new Deno.Command("jq", { args: ["-r", ".name"], stdin: "piped", stdout: "piped" })
      .spawn();
    const writer = jq.stdin.getWriter();
    await writer.write(new TextEncoder().encode(json));
    await writer.close();
    const { stdout } = await jq.output();
    const version = (await Deno.readTextFile("/etc/jq-version")).trim();
    return `${Deno.env.get("GREETING")}: ${new TextDecoder().decode(stdout).trim()} (${version})`;
  },
);

app.localEntrypoint(async () => {
  console.log(await jqName.remote(JSON.stringify({ name: "nano-modal" })));
});
