/**
 * The pinned dockerode client, in its own module so that it is loaded (with
 * its ~80 ms of dependencies) only when the docker runner is used.
 * @module
 */
// @ts-types="npm:@types/dockerode@4.0.2"
export { default as Dockerode } from "npm:dockerode@4.0.12";
