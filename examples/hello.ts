// The smallest nano-modal app: `nano-modal run examples/hello.ts` prints 25.
import { App } from "@nano/modal";

const app = new App("hello");

export const square = app.function(function square(x: number): number {
  return x * x;
});

app.localEntrypoint(async () => {
  console.log(await square.remote(5));
});
