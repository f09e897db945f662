/**
 * The contract of a {@linkcode VolumeStore}, as tests every implementation runs.
 * @module
 */
import { deepStrictEqual, equal, ok } from "node:assert/strict";
import type { Case } from "./_conformance_fixture.ts";
import type { VolumeFile, VolumeStore } from "./volume_store.ts";

const LIMITS = { maxBytes: 1000, maxFiles: 10 };

function file(path: string, size: number, chunk = `h-${path}-${size}`): VolumeFile {
  return { path, size, chunks: size ? [chunk] : [], mtimeMs: 5 };
}

async function paths(store: VolumeStore, name: string): Promise<string[]> {
  return (await store.readTree(name))!.files.map((f) => f.path).sort();
}

/** Cases of `store.volumes`. */
export const VOLUME_STORE_CASES: Record<string, Case> = {
  "a volume is created once, listed, and deleted": async ({ store: s }) => {
    const store = s.volumes;
    ok(await store.createVolume("v", 7));
    equal(await store.createVolume("v", 8), false);
    deepStrictEqual(await store.listVolumes(), [
      { name: "v", createdMs: 7, version: 0, files: 0, bytes: 0 },
    ]);
    ok(await store.deleteVolume("v"));
    equal(await store.deleteVolume("v"), false);
    equal(await store.getVolume("v"), undefined);
    equal(await store.readTree("v"), undefined);
  },

  "commits apply in order, raise the version, and keep totals": async ({ store: s }) => {
    const store = s.volumes;
    await store.createVolume("v", 0);
    const r1 = await store.commit("v", [{ path: "a", file: file("a", 10) }, {
      path: "d/b",
      file: file("d/b", 20),
    }], LIMITS);
    deepStrictEqual(r1, { ok: true, version: 1 });
    const r2 = await store.commit("v", [{ path: "a", file: file("a", 5) }], LIMITS);
    deepStrictEqual(r2, { ok: true, version: 2 });
    const tree = await store.readTree("v");
    equal(tree!.version, 2);
    deepStrictEqual(tree!.files.find((f) => f.path === "a"), file("a", 5));
    const info = await store.getVolume("v");
    equal(info!.files, 2);
    equal(info!.bytes, 25);
  },

  "removing a path removes it and everything below, but not its namesakes": async (
    { store: s },
  ) => {
    const store = s.volumes;
    await store.createVolume("v", 0);
    await store.commit(
      "v",
      ["d/x", "d/y/z", "dd", "e"].map((p) => ({ path: p, file: file(p, 1) })),
      LIMITS,
    );
    await store.commit("v", [{ path: "d" }, { path: "d/new", file: file("d/new", 2) }], LIMITS);
    deepStrictEqual(await paths(store, "v"), ["d/new", "dd", "e"]);
    await store.commit("v", [{ path: "" }], LIMITS);
    deepStrictEqual(await paths(store, "v"), []);
    equal((await store.getVolume("v"))!.bytes, 0);
  },

  "a commit past the limits changes nothing": async ({ store: s }) => {
    const store = s.volumes;
    await store.createVolume("v", 0);
    await store.commit("v", [{ path: "a", file: file("a", 600) }], LIMITS);
    const full = await store.commit("v", [{ path: "b", file: file("b", 300) }, {
      path: "c",
      file: file("c", 300),
    }], LIMITS);
    equal(full.ok, false);
    equal(!full.ok && full.reason, "full");
    deepStrictEqual(await paths(store, "v"), ["a"]);
    equal((await store.getVolume("v"))!.version, 1);
    // Replacing a file frees its old size first.
    ok((await store.commit("v", [{ path: "a", file: file("a", 900) }], LIMITS)).ok);
  },

  "a commit to a missing volume says so": async ({ store: s }) => {
    const store = s.volumes;
    deepStrictEqual(await store.commit("nope", [{ path: "a", file: file("a", 1) }], LIMITS), {
      ok: false,
      reason: "missing",
    });
  },

  "concurrent commits to one file leave one whole version": async ({ store: s }) => {
    const store = s.volumes;
    await store.createVolume("v", 0);
    await Promise.all(Array.from({ length: 12 }, (_, i) =>
      store.commit("v", [
        { path: "f", file: file("f", i + 1, `c${i}`) },
        { path: `own/${i}`, file: file(`own/${i}`, 1) },
      ], { maxBytes: 1000, maxFiles: 100 })));
    const tree = (await store.readTree("v"))!;
    equal(tree.version, 12);
    equal(tree.files.length, 13);
    const f = tree.files.find((x) => x.path === "f")!;
    equal(f.chunks[0], `c${f.size - 1}`);
  },

  "chunks are stored by hash byte for byte and reported missing until put": async (
    { store: s },
  ) => {
    const store = s.volumes;
    deepStrictEqual(await store.missingChunks(["x", "y"]), ["x", "y"]);
    await store.putChunk("x", new Uint8Array([0, 255, 1]));
    deepStrictEqual(await store.missingChunks(["x", "y"]), ["y"]);
    deepStrictEqual(await store.getChunk("x"), new Uint8Array([0, 255, 1]));
    equal(await store.getChunk("y"), undefined);
  },
};
