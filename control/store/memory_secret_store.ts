/**
 * {@linkcode SecretStore} in memory: for tests and a control plane with no
 * durable store configured.
 * @module
 */
import type { SecretRecord, SecretStore, SecretSummary } from "./secret_store.ts";

/** Secrets in a Map. */
export class MemorySecretStore implements SecretStore {
  readonly #secrets = new Map<string, SecretRecord>();

  putSecret(record: SecretRecord, replace: boolean): Promise<boolean> {
    const old = this.#secrets.get(record.name);
    if (old && !replace) return Promise.resolve(false);
    this.#secrets.set(record.name, {
      ...record,
      keys: [...record.keys],
      sealed: record.sealed.slice(),
      createdMs: old?.createdMs ?? record.createdMs,
    });
    return Promise.resolve(true);
  }

  getSecret(name: string): Promise<SecretRecord | undefined> {
    const s = this.#secrets.get(name);
    return Promise.resolve(s && { ...s, keys: [...s.keys], sealed: s.sealed.slice() });
  }

  listSecrets(): Promise<SecretSummary[]> {
    const all = [...this.#secrets.values()].sort((a, b) => a.name < b.name ? -1 : 1);
    return Promise.resolve(all.map(({ sealed: _, ...s }) => ({ ...s, keys: [...s.keys] })));
  }

  deleteSecret(name: string): Promise<boolean> {
    return Promise.resolve(this.#secrets.delete(name));
  }
}
