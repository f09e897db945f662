// Classes: `nano-modal run examples/cls.ts`. Each constructor argument list is an
// instance with containers of its own; @enter() runs once per container.
import { App, enter, exit } from "@nano/modal";

const app = new App("cls");

export const Model = app.cls(
  { memoryMiB: 256, exitGraceMs: 5_000 },
  class Model {
    constructor(readonly size = "small") {}
    table = new Map<string, number>();
    @enter()
    load() {
      // Runs before the container's first input: load weights, open connections...
      for (const [i, w] of ["a", "bb", "ccc"].entries()) this.table.set(w, (i + 1) * 10);
    }
    @exit()
    close() {
      console.log(`${this.size} model unloading`);
    }
    score(word: string): number {
      return (this.table.get(word) ?? 0) * (this.size === "large" ? 2 : 1);
    }
  },
);

app.localEntrypoint(async () => {
  console.log(await Model.instance().score.remote("a")); // 10
  console.log(await Model.instance("large").score.remote("bb")); // 40
  const scores: number[] = [];
  for await (const s of Model.instance("large").score.map(["a", "bb", "ccc"])) scores.push(s);
  console.log(scores); // [ 20, 40, 60 ]
});
