/** Packages only the end-to-end tests use, pinned here (like bench/deps.ts). */
export { default as puppeteer } from "npm:puppeteer-core@25.16.0";
