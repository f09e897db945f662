/**
 * The SDK's second door, for the CLI only (not part of the published API, which is `mod.ts`):
 * the bundler, so that `nano-modal run` starts bundling an app file the moment it has its path,
 * while the app's module and the client load (~20 ms of a run through a local server). The
 * app's own run then takes that bundle (`bundleModule` shares one under way for the same file
 * and externals).
 * @module
 */
export { type Bundle, bundleModule } from "./_bundle.ts";
