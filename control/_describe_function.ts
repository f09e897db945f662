/** What a worker is told about a function: on its Work stream, or through GetFunction. */
import { create, fromBinary } from "../proto/deps.ts";
import {
  FunctionDefSchema,
  type GetFunctionResponse,
  GetFunctionResponseSchema,
} from "../proto/messages.ts";
import type { Store } from "./store/mod.ts";

/** What a worker needs to run a function, or undefined if it does not exist. */
export async function describeFunction(
  store: Store,
  functionId: string,
): Promise<GetFunctionResponse | undefined> {
  const fn = await store.apps.getFunction(functionId);
  const app = fn && await store.apps.getApp(fn.appId);
  if (!fn || !app) return undefined;
  return create(GetFunctionResponseSchema, {
    appId: app.appId,
    appName: app.name,
    bundleHash: app.bundleHash,
    entryUrl: app.entryUrl,
    def: fromBinary(FunctionDefSchema, fn.def),
  });
}
