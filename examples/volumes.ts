// Volumes: a persistent file tree that functions mount and any script can read.
//   nano-modal run --runner docker examples/volumes.ts
//   nano-modal volume ls notes            # with a server: the files stay
import { App, Volume } from "@nano/modal";

const app = new App("volumes");
const notes = Volume.fromName("notes", { createIfMissing: true });

export const writeNote = app.function(
  { volumes: { "/notes": notes } },
  async function writeNote(i: number): Promise<string> {
    await Deno.mkdir("/notes/by-worker", { recursive: true });
    await Deno.writeTextFile(`/notes/by-worker/note-${i}.txt`, `note ${i}\n`);
    await notes.commit(); // visible to every other container from now on
    return `note-${i}.txt`;
  },
);

export const countNotes = app.function(
  { volumes: { "/notes": notes } },
  async function countNotes(): Promise<number> {
    await notes.reload(); // take in what other containers committed
    let n = 0;
    for await (const _ of Deno.readDir("/notes/by-worker")) n++;
    return n;
  },
);

app.localEntrypoint(async () => {
  for await (const name of writeNote.map([1, 2, 3, 4, 5])) console.log(`wrote ${name}`);
  console.log(`notes seen inside: ${await countNotes.remote()}`);
  // Outside functions: the same volume through the client.
  await notes.writeFile("/readme.txt", "written from the local entrypoint\n");
  const listing = await notes.readDir("/");
  console.log(`root: ${listing.map((e) => e.name + (e.isDirectory ? "/" : "")).join(", ")}`);
  console.log(new TextDecoder().decode(await notes.readFile("by-worker/note-3.txt")).trim());
});
