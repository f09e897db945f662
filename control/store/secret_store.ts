/**
 * The secrets store: named secrets, held only as ciphertext (the control
 * plane encrypts before it stores, see `../_secret_cipher.ts`), so no store
 * ever sees a value. Memory and Redis implementations are held to one
 * conformance suite (`secret_store_conformance.ts`).
 * @module
 */

/** A stored secret: its variable names in the clear, its values sealed. */
export interface SecretRecord {
  /** The secret's name. */
  name: string;
  /** Variable names, sorted. */
  keys: string[];
  /** The sealed values (nonce and AES-GCM ciphertext). */
  sealed: Uint8Array;
  /** When it was first created. */
  createdMs: number;
  /** When it was last replaced. */
  updatedMs: number;
}

/** What listings show: never the sealed values. */
export type SecretSummary = Omit<SecretRecord, "sealed">;

/** The contract every secrets store implements; all methods are safe to call concurrently. */
export interface SecretStore {
  /**
   * Stores a secret. Without `replace`, an existing name is left alone and the
   * result is `false`; with it, the secret is replaced (keeping its creation time).
   */
  putSecret(record: SecretRecord, replace: boolean): Promise<boolean>;
  /** The secret, if it exists. */
  getSecret(name: string): Promise<SecretRecord | undefined>;
  /** Every secret, by name. */
  listSecrets(): Promise<SecretSummary[]>;
  /** Whether it existed. */
  deleteSecret(name: string): Promise<boolean>;
}
