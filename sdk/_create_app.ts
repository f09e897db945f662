/**
 * Creating an app on a control plane: its bundle (which
 * {@linkcode startBundle} can start before there is a server to talk to), the
 * uploads of the bundle and its images' files, and `CreateApp`.
 */
import { type Client, create } from "../proto/deps.ts";
import {
  type ControlService,
  type CreateAppResponse,
  FunctionDefSchema,
} from "../proto/messages.ts";
import type { RpcTransport } from "../proto/transport.ts";
import { type Bundle, bundleModule } from "./_bundle.ts";
import { imageDefinitions, npmExternals } from "./_image_files.ts";
import type { ResolvedOptions } from "./_options.ts";
import { prepareState } from "./_state_session.ts";
import { toFunctionDef } from "./_function_def.ts";
import { trace } from "../proto/trace.ts";

/** An app as the session needs it. */
export interface AppSpec {
  name: string;
  functions: Map<string, ResolvedOptions>;
}

/** A bundle on its way (see {@linkcode startBundle}). */
export interface PendingBundle {
  bundle: Promise<Bundle>;
  /** Resolves once the rest of the bundling runs in another process, or is done. */
  started: Promise<void>;
}

/**
 * Starts bundling `app`'s entry module (npm packages its images install stay
 * imports), so that it can overlap other work before the app is created.
 */
export function startBundle(app: AppSpec, entryUrl: string): PendingBundle {
  const images = [...app.functions.values()].map((o) => o.image);
  const started = Promise.withResolvers<void>();
  const bundle = bundleModule(entryUrl, npmExternals(images), { onStarted: started.resolve });
  // Awaited by createApp, unless connecting failed first.
  bundle.then(() => trace("bundled"), () => {}).finally(started.resolve);
  return { bundle, started: started.promise };
}

/** What {@linkcode createApp} creates. */
export interface CreateAppOptions {
  app: AppSpec;
  entryUrl: string;
  ephemeral: boolean;
  detach?: boolean;
  /** The bundle, if {@linkcode startBundle} started it already. */
  bundle?: Promise<Bundle>;
}

/** Uploads what the server lacks (the bundle once per hash) and creates the app. */
export async function createApp(
  client: Client<typeof ControlService>,
  transport: RpcTransport["transport"],
  options: CreateAppOptions,
): Promise<CreateAppResponse> {
  const { app, entryUrl } = options;
  const images = new Map([...app.functions].map(([name, o]) => [name, o.image]));
  const bundle = await (options.bundle ?? startBundle(app, entryUrl).bundle);
  const upload = async (hash: string, data: Uint8Array) => {
    const { present } = await client.putBundle({ hash });
    if (!present) await client.putBundle({ hash, data });
  };
  await upload(bundle.hash, bundle.code);
  const imageDefs = await imageDefinitions(images, upload);
  const state = await prepareState(transport, app.functions);
  const created = await client.createApp({
    name: app.name,
    bundleHash: bundle.hash,
    ephemeral: options.ephemeral,
    detached: options.detach ?? false,
    entryUrl,
    functions: [...app.functions].map(([name, o]) =>
      create(FunctionDefSchema, {
        ...toFunctionDef(name, o, imageDefs.get(name)!),
        ...state.get(name),
      })
    ),
  });
  trace("app created");
  return created;
}
