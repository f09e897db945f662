import { equal, rejects } from "node:assert/strict";
import { Code, ConnectError, createClient, createRouterTransport } from "../proto/deps.ts";
import { VolumeService } from "../proto/messages.ts";
import { removeChange, VolumeClient, writeChange } from "../proto/volume_client.ts";
import { createVolumeService } from "./volume_service.ts";
import { MemoryVolumeStore } from "./store/memory_volume_store.ts";

function setup(limits: { maxFileBytes?: number; maxVolumeBytes?: number } = {}) {
  const store = new MemoryVolumeStore();
  const transport = createRouterTransport(({ service }) =>
    service(VolumeService, createVolumeService({ store, ...limits }))
  );
  return { transport, raw: createClient(VolumeService, transport) };
}

function code(c: Code) {
  return (e: unknown) => e instanceof ConnectError && e.code === c;
}

Deno.test("a commit over the volume limit is refused whole and keeps what was committed", async () => {
  const { transport, raw } = setup({ maxVolumeBytes: 100, maxFileBytes: 80 });
  await raw.createVolume({ name: "v" });
  const vol = new VolumeClient(transport, "v");
  await vol.commit([writeChange(await vol.uploadBytes("a", new Uint8Array(60)))]);
  const b = await vol.uploadBytes("b", new Uint8Array(30));
  const c = await vol.uploadBytes("c", new Uint8Array(30));
  await rejects(
    vol.commit([writeChange(b), writeChange(c)]),
    (e: ConnectError) =>
      e.code === Code.ResourceExhausted && /over its limit.*nothing/.test(e.rawMessage),
  );
  const tree = (await vol.tree())!;
  equal(tree.entries.size, 1);
  await rejects(
    vol.commit([writeChange(await vol.uploadBytes("big", new Uint8Array(90)))]),
    (e: ConnectError) => /over the volume file limit/.test(e.rawMessage),
  );
});

Deno.test("paths are kept inside the volume, chunks must match their hash and exist", async () => {
  const { transport, raw } = setup();
  await raw.createVolume({ name: "v" });
  const vol = new VolumeClient(transport, "v");
  const entry = await vol.uploadBytes("x", new Uint8Array([1, 2, 3]));
  await rejects(
    vol.commit([writeChange({ ...entry, path: "../etc/passwd" })]),
    code(Code.InvalidArgument),
  );
  await rejects(vol.commit([writeChange({ ...entry, path: "/" })]), /root is a directory/);
  await rejects(
    raw.putChunks({ chunks: [{ hash: "0".repeat(64), data: new Uint8Array([9]) }] }),
    /does not match its content/,
  );
  await rejects(
    vol.commit([writeChange({ ...entry, chunks: ["f".repeat(64)] })]),
    code(Code.FailedPrecondition),
  );
  await rejects(raw.getVolumeTree({ name: "nope" }), /Volume "nope" not found: create it/);
  await rejects(raw.createVolume({ name: "bad/name" }), /not valid/);
});

Deno.test("a file replaces a directory of its name and a directory replaces a file", async () => {
  const { transport, raw } = setup();
  await raw.createVolume({ name: "v" });
  const vol = new VolumeClient(transport, "v");
  await vol.commit([writeChange(await vol.uploadBytes("d/inner", new Uint8Array([1])))]);
  await vol.commit([writeChange(await vol.uploadBytes("d", new Uint8Array([2])))]);
  equal([...(await vol.tree())!.entries.keys()].join(), "d");
  await vol.commit([writeChange(await vol.uploadBytes("d/again", new Uint8Array([3])))]);
  equal([...(await vol.tree())!.entries.keys()].join(), "d/again");
  await vol.commit([removeChange("")]);
  equal((await vol.tree())!.entries.size, 0);
});
