// The seed's success criteria: an image with an npm package, a function that
// fetches a URL and returns its length, called once with `.remote` and over 10
// inputs with `.map`.
//   nano-modal run examples/fetch.ts                       # https://example.com
//   nano-modal run examples/fetch.ts -- http://127.0.0.1:8000/
import { App, Image } from "@nano/modal";
// A user script has no deno.json: it names the npm package inline, as the image installs it.
// deno-lint-ignore no-import-prefix
import prettyBytes from "npm:pretty-bytes@6";

const app = new App("fetch");

const image = Image.deno().npmInstall("pretty-bytes@6");

export const fetchLength = app.function(
  { image, timeoutMs: 30_000, retries: 1 },
  async function fetchLength(url: string): Promise<number> {
    const res = await fetch(url);
    const text = await res.text();
    console.log(`${url}: HTTP ${res.status}, ${prettyBytes(text.length)}`);
    return text.length;
  },
);

app.localEntrypoint(async (args) => {
  const url = args[0] ?? "https://example.com";
  console.log(`length ${await fetchLength.remote(url)}`);
  const urls = Array.from({ length: 10 }, (_, i) => `${url}${url.includes("?") ? "&" : "?"}i=${i}`);
  const lengths: number[] = [];
  for await (const n of fetchLength.map(urls)) lengths.push(n);
  console.log(`map ${lengths.join(" ")}`);
});
