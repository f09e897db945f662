import { ok } from "node:assert/strict";
import { deniedNet } from "./_sandbox_net.ts";

Deno.test("deniedNet() covers loopback, private ranges, localhost and the host's own addresses", () => {
  const denied = deniedNet();
  for (const entry of ["127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]) {
    ok(denied.includes(entry), entry);
  }
  for (const entry of ["169.254.0.0/16", "0.0.0.0/8", "localhost", "[::1]", "[::]"]) {
    ok(denied.includes(entry), entry);
  }
  for (const iface of Deno.networkInterfaces()) {
    const address = iface.address.replace(/%.*$/, "");
    ok(denied.includes(iface.family === "IPv6" ? `[${address}]` : address), address);
  }
});

Deno.test("Deno accepts the deny list and enforces it on addresses a name resolves to", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const script = await Deno.makeTempFile({ suffix: ".js" });
  await Deno.writeTextFile(
    script,
    `for (const h of ["127.0.0.1", "localhost", "127.9.9.9", "0.0.0.0", "::ffff:127.0.0.1"]) {
      try { (await Deno.connect({ hostname: h, port: ${port} })).close(); console.log(h, "reached"); }
      catch (e) { console.log(h, e.name); }
    }`,
  );
  try {
    const { code, stdout } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-config", "--allow-net", `--deny-net=${deniedNet().join(",")}`, script],
      stdout: "piped",
      stderr: "inherit",
    }).output();
    ok(code === 0);
    const text = new TextDecoder().decode(stdout);
    ok(!text.includes("reached") && text.includes("127.0.0.1 NotCapable"), text);
  } finally {
    listener.close();
    await Deno.remove(script);
  }
});
