// A deployed app: `nano-modal deploy examples/deploy.ts` against a running server, then call it
// from any script with RemoteFunction.fromName (see the README's "Deployed apps").
// `nano-modal run examples/deploy.ts::wordCount -- "to be or not to be"` runs one function.
import { App } from "@nano/modal";

const app = new App("words");

export const countWord = app.function(function countWord(text: string, word: string): number {
  return text.split(/\s+/).filter((w) => w === word).length;
});

// Calls another function of the same app from inside its sandbox: no network needed.
export const wordCount = app.function(
  { blockNetwork: true },
  async function wordCount(text: string): Promise<Record<string, number>> {
    const words = [...new Set(text.split(/\s+/).filter(Boolean))];
    const counts: Record<string, number> = {};
    let i = 0;
    for await (const n of countWord.starmap(words.map((w) => [text, w] as [string, string]))) {
      counts[words[i++]] = n;
    }
    return counts;
  },
);
