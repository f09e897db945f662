// The examples of secrets, volumes and fetch run as documented (docker runner).
import { match, ok } from "node:assert/strict";
import { check, runCli } from "./_cli.ts";
import { startStack } from "./_state_stack.ts";

/** The host's address on Docker's default bridge, which containers reach. */
function dockerGateway(): string {
  const nic = Deno.networkInterfaces().find((n) => n.name === "docker0" && n.family === "IPv4");
  ok(nic, "the docker0 bridge exists (start dockerd)");
  return nic.address;
}

Deno.test("examples/fetch.ts fetches a local URL once with .remote and 10 times with .map", async () => {
  const body = "y".repeat(4321);
  const server = Deno.serve(
    { hostname: dockerGateway(), port: 0, onListen() {} },
    () => new Response(body),
  );
  try {
    const url = `http://${dockerGateway()}:${server.addr.port}/`;
    const r = await runCli(["run", "--runner", "docker", "examples/fetch.ts", "--", url], {
      timeoutMs: 300_000,
    });
    check(r.code === 0, "fetch.ts runs", r);
    match(r.stdout, /^length 4321$/m);
    match(r.stdout, new RegExp(`^map${" 4321".repeat(10)}$`, "m"));
    match(r.stdout, /HTTP 200, 4.32 kB/, "the npm package from the image formats sizes");
  } finally {
    await server.shutdown();
  }
});

Deno.test("examples/volumes.ts and examples/secrets.ts run as their comments say", async () => {
  const stack = await startStack(["docker"]);
  try {
    let r = await stack.cli(["run", "examples/volumes.ts"], 240_000);
    check(r.code === 0, "volumes.ts", r);
    match(r.stdout, /notes seen inside: 5/);
    match(r.stdout, /root: by-worker\/, readme.txt/);
    r = await stack.cli(["volume", "ls", "notes", "by-worker"]);
    check(r.code === 0 && (r.stdout.match(/note-\d\.txt/g) ?? []).length === 5, "notes kept", r);
    r = await stack.cli(["secret", "create", "api-keys", "API_TOKEN=abc123"]);
    check(r.code === 0, "secret", r);
    r = await stack.cli(["run", "examples/secrets.ts"], 240_000);
    check(r.code === 0, "secrets.ts", r);
    match(r.stdout, /token of 6 characters, region eu-west/);
    match(r.stdout, /no token here/);
  } finally {
    await stack.stop();
  }
});
