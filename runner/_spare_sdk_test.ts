import { strictEqual } from "node:assert/strict";
import { builtHere, keptSdk, learnSdk, readBundle } from "./_spare_sdk.ts";
import { LINKABLE_SDK_SUFFIX, SDK_END_MARK } from "../proto/bundle_format.ts";

/** A bundle linked to an SDK whose part is `sdk` (the shape `sdk/_sdk_link.ts` writes). */
function linked(sdkBody: string): { part: string; bundle: string } {
  const part = `const __nano_modal_sdk = await (async () => {\n${sdkBody}\nreturn {};\n})();`;
  return { part, bundle: `${part}${SDK_END_MARK} const {} = __nano_modal_sdk;\nconsole.log(1);\n` };
}

Deno.test("a worker's spares learn only an SDK this host's own run built into the cache", async () => {
  const cache = await Deno.makeTempDir({ prefix: "nm-spare-sdk-" });
  try {
    await Deno.mkdir(`${cache}/bundles`);
    const ours = linked("const ours = 1;"), theirs = linked("globalThis.stolen = 1;");
    // Our SDK's bundle, made ready to link by our bundler, beside it in the cache.
    await Deno.writeTextFile(
      `${cache}/bundles/abc.js${LINKABLE_SDK_SUFFIX}`,
      JSON.stringify({ code: ours.part }),
    );
    strictEqual(await builtHere(cache, ours.part), true);
    strictEqual(await builtHere(cache, theirs.part), false);
    strictEqual(await builtHere(`${cache}/none`, ours.part), false, "no cache dir");

    const trust = (part: string) => builtHere(cache, part);
    const write = async (name: string, text: string) => {
      await Deno.writeTextFile(`${cache}/${name}`, text);
      return readBundle(`${cache}/${name}`);
    };
    // A client's bundle that begins with another SDK is not learnt, nor kept for the next run.
    const refused = await learnSdk(
      Promise.resolve(undefined),
      write("t.js", theirs.bundle),
      cache,
      trust,
    );
    strictEqual(refused, undefined);
    strictEqual(await keptSdk(cache), undefined, "nothing kept");
    const learnt = await learnSdk(
      Promise.resolve(undefined),
      write("o.js", ours.bundle),
      cache,
      trust,
    );
    strictEqual(learnt?.part, ours.part);
    strictEqual((await keptSdk(cache, trust))?.part, ours.part, "kept for the next spare");
    // Once known, a refused one leaves it known.
    const after = await learnSdk(
      Promise.resolve(learnt),
      write("t2.js", theirs.bundle),
      cache,
      trust,
    );
    strictEqual(after?.part, ours.part);
    // Without trust (a run's own runner), any SDK is learnt.
    strictEqual(
      (await learnSdk(Promise.resolve(undefined), write("t3.js", theirs.bundle), undefined))?.part,
      theirs.part,
    );
  } finally {
    await Deno.remove(cache, { recursive: true });
  }
});
