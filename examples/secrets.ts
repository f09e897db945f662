// Secrets: environment variables of the functions that list them, and of no other.
//   nano-modal secret create api-keys API_TOKEN=abc123
//   nano-modal run examples/secrets.ts
// (`run` needs a server that holds the secret: start `nano-modal serve --with-workers`
// and set NANO_MODAL_SERVER, or pass --server.)
import { App, Secret } from "@nano/modal";

const app = new App("secrets");

export const whoAmI = app.function(
  // Later secrets override earlier ones: REGION from the dict wins.
  { secrets: [Secret.fromName("api-keys"), Secret.fromDict({ REGION: "eu-west" })] },
  function whoAmI(): string {
    const token = Deno.env.get("API_TOKEN") ?? "";
    return `token of ${token.length} characters, region ${Deno.env.get("REGION")}`;
  },
);

export const noSecrets = app.function(function noSecrets(): string {
  return Deno.env.get("API_TOKEN") === undefined ? "no token here" : "leaked!";
});

app.localEntrypoint(async () => {
  console.log(await whoAmI.remote());
  console.log(await noSecrets.remote());
});
