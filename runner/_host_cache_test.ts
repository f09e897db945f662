import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { keepHost, keptHost, sameHost } from "./_host_cache.ts";
import type { HostSupport } from "./_deno_spawn.ts";
import { deniedNet } from "./_sandbox_net.ts";

const probed: HostSupport = {
  bwrap: { path: "bwrap", userns: true, libraries: ["/lib/a.so"] },
  cgroupParent: { dir: "/sys/fs/cgroup/x", v2: true },
  setpriv: true,
  denied: deniedNet(),
};

Deno.test("keptHost: a probe's answers come back for the same Deno binary, never for another", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nano-modal-host-" });
  try {
    strictEqual(await keptHost(dir, Deno.execPath()), undefined, "nothing kept yet");
    await keepHost(dir, Deno.execPath(), probed);
    const kept = await keptHost(dir, Deno.execPath());
    ok(kept);
    deepStrictEqual(kept, probed);
    ok(sameHost(kept, probed));
    // Another binary (a copy: another path, another mtime) is probed afresh.
    const copy = `${dir}/deno-copy`;
    await Deno.writeTextFile(copy, "not deno");
    strictEqual(await keptHost(dir, copy), undefined);
    // A probe that says otherwise is not the same host.
    ok(!sameHost(kept, { ...probed, bwrap: null }));
    // A damaged file is no answer.
    await Deno.writeTextFile(`${dir}/deno-host.json`, "{");
    strictEqual(await keptHost(dir, Deno.execPath()), undefined);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
