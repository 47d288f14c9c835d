// The IPC types: generated from the Rust types (./bindings.ts, kept current by a Rust test), plus the few
// shapes only the page builds. One casing across the boundary: snake_case, requests and responses alike.

export * from "./bindings";
import type { AskEvent, Decision, LabelRequest } from "./bindings";

/** A chat answer's events (the core's ask events: the decision, hand-overs, cascade steps, text). */
export type ChatEvent = AskEvent;

/** One step of the verified cascade, as a chat answer stores it in its route (its cost once it is stored). */
export interface CascadeStep {
  tier: string;
  model: string;
  verdict: string;
  passed: boolean;
  cost_usd?: number;
}

/** A stored answer's route: the decision, plus the cascade's steps when the prompt carried tests. */
export type ChatRoute = Decision & { cascade?: CascadeStep[] };

/** The Labeling tab's form: the fields a run needs; the rest take the core's defaults. */
export type LabelArgs = Pick<LabelRequest, "dataset" | "tiers" | "trials" | "rule"> &
  Partial<Omit<LabelRequest, "dataset" | "tiers" | "trials" | "rule">> & { name: string };
