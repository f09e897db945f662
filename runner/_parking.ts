/**
 * Release-while-nested: which sandboxes wait on nested calls only. A sandbox
 * whose every running input waits on calls it made from inside (a function
 * calling another, or itself) uses no CPU while it waits; if it kept its
 * reserved cores, recursive and fan-out calls would deadlock once a worker's
 * cores are reserved (the calls they wait on could never get a sandbox). So it
 * is "parked" while it waits and gives its reservation back (`_reservation.ts`),
 * taking it again as soon as one of its inputs runs again.
 */

/** Tracks one sandbox's inputs that wait on nested calls; says when it parks and unparks. */
export class Parking {
  /** Running input → nested calls it has outstanding. */
  readonly #calls = new Map<string, number>();
  readonly #running: () => number;
  #parked = false;
  /** Runs each time the sandbox parks (true) or unparks (false). */
  onChange: (parked: boolean) => void = () => {};

  /** `running()` counts the inputs running in the sandbox now (sent and not queued there). */
  constructor(running: () => number) {
    this.#running = running;
  }

  /** Whether every running input waits on nested calls now. */
  get parked(): boolean {
    return this.#parked;
  }

  /** A nested call of `input` is under way until `answered` settles. */
  track(input: string, answered: Promise<unknown>): void {
    this.#calls.set(input, (this.#calls.get(input) ?? 0) + 1);
    this.settle();
    const end = () => {
      const n = (this.#calls.get(input) ?? 0) - 1;
      if (n > 0) this.#calls.set(input, n);
      else this.#calls.delete(input);
      this.settle();
    };
    answered.then(end, end);
  }

  /** `input` finished: calls it left behind (never awaited) no longer hold the sandbox. */
  finished(input: string): void {
    if (this.#calls.size === 0 && !this.#parked) return;
    this.#calls.delete(input);
    this.settle();
  }

  /** Parks or unparks for what runs now (an input that starts runs again: unpark). */
  settle(): void {
    if (this.#calls.size === 0 && !this.#parked) return;
    const running = this.#running();
    const parked = running > 0 && this.#calls.size >= running;
    if (parked === this.#parked) return;
    this.#parked = parked;
    this.onChange(parked);
  }
}
