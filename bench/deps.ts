/** Packages only the benchmarks use (the baseline we compare against), pinned here. */
export { Queue, Worker as BullWorker } from "npm:bullmq@5.81.5";
