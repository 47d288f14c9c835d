// The IPC types: generated from the Rust types (./bindings.ts, kept current by a Rust test), plus the few
// shapes only the page builds. One casing across the boundary: snake_case, requests and responses alike.

export * from "./bindings";
import type { AskEvent, LabelRequest } from "./bindings";

/** A chat answer's events (the core's ask events: the decision, the checks, hand-overs, cascade steps, text). */
export type ChatEvent = AskEvent;

/** The Labeling tab's form: the fields a run needs; the rest take the core's defaults. */
export type LabelArgs = Pick<LabelRequest, "dataset" | "tiers" | "trials" | "rule"> &
  Partial<Omit<LabelRequest, "dataset" | "tiers" | "trials" | "rule">> & { name: string };
