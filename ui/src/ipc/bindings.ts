// Generated from the Rust types by `UPDATE_BINDINGS=1 cargo test -p complexitynet ipc_bindings`
// (src-tauri/src/commands/bindings.rs). Do not edit: a test fails when this file and the Rust types differ.

export type AppError = { code: ErrorCode, message: string, };

export type AppInfo = { version: string, data_dir: string, database: string, logs: string, };

/**
 * What a front end hears while an answer is made.
 */
export type AskEvent = { "event": "routed", decision: Decision, } | { "event": "checks", summary: string, checks: Array<CheckItem>, } | { "event": "started", tier: string, provider: string, model: string, } | { "event": "piece", text: string, } | { "event": "fell_through", from: string, to: string, error: string, } | { "event": "step", tier: string, model: string, verdict: string, passed: boolean, };

/**
 * The answer and how it came about.
 */
export type AskOutcome = { 
/**
 * The routing decision (None for a named tier the prompt was not classified for), updated by each
 * hand-over.
 */
route: Decision | null, tier: TierRow, provider: string, completion: Completion, 
/**
 * Every call made, the failed ones first.
 */
attempts: Array<Attempt>, cost_mode: CostMode, 
/**
 * The cost of every attempt in the cost mode (dollars, or the paper's units per call).
 */
cost: number, 
/**
 * Every attempt's dollars (a verified cascade pays for each tier it tried).
 */
cost_usd: number, 
/**
 * What the answer's tokens would have cost on the top tier, minus what every attempt cost (never negative);
 * zero for an answer that failed its tests: savings are claimed only for answers that can be kept.
 */
saved_usd: number, 
/**
 * The checks' verdicts, when the prompt carried checks.
 */
verification: Verification | null, };

/**
 * One call to a tier, as the answer's record shows it.
 */
export type Attempt = { tier: string, model: string, 
/**
 * None when it answered; else the failure.
 */
error: string | null, cost_usd: number, };

/**
 * The dial's budget as a decision reports it.
 */
export type BudgetState = { 
/**
 * The share of always-top's cost to spend.
 */
target: number, 
/**
 * The share spent so far (before this prompt), once anything was routed.
 */
realized: number | null, 
/**
 * Routed prompts so far.
 */
prompts: number, };

/**
 * The dial's budget as Settings and the chat header show it: the target, what routed prompts realized, and
 * which router decides and why.
 */
export type BudgetStatus = { target: number, 
/**
 * What the dial's routed prompts cost over the last 30 days, as a share of always-top's cost for them.
 */
realized: number | null, prompts: number, 
/**
 * `hull` (the mix of the fixed tiers the budget buys) or `learned` (the classifier's router).
 */
router: string, 
/**
 * Why, in words, with the figures.
 */
why: string, 
/**
 * What is known of each tier's model.
 */
tiers: Array<TierAbility>, };

/**
 * What to calibrate, and how much to spend on it.
 */
export type CalibrateRequest = { 
/**
 * The tiers to calibrate, by name (default: every tier).
 */
tiers: Array<string>, 
/**
 * Tasks per tier.
 */
n: number, 
/**
 * The imported MBPP dataset's name.
 */
dataset: string, budget?: number | null, dry_run: boolean, };

/**
 * One tier's calibration.
 */
export type CalibratedTier = { tier: string, model: string, passed: number, tasks: number, 
/**
 * The MBPP pass rate the fitted ability means (what routing now knows of this model).
 */
rate: number, 
/**
 * Whether the tier is on the hull of the fixed tiers (a tier that passes less than a cheaper one is not).
 */
on_hull: boolean, };

export type Calibration = { run: string, estimate: Estimate, 
/**
 * Empty for a dry run.
 */
tiers: Array<CalibratedTier>, 
/**
 * What the saved budget buys now, in words.
 */
budget: string, 
/**
 * On the sampled tasks, each calibrated tier's share of always-top's cost and its pass rate.
 */
fixed: Array<SamplePoint>, 
/**
 * On the sampled tasks, what the hull of those fixed tiers passes at the saved budget (None for a dry run).
 */
hull_at_budget?: number | null, };

/**
 * A downloadable dataset.
 */
export type CatalogEntry = { name: string, title: string, url: string, size: number, license: string, };

/**
 * A downloadable model.
 */
export type CatalogModel = { name: string, title: string, 
/**
 * Bytes: as published, else as pinned by the first complete download, else unknown.
 */
size: number | null, license: string, 
/**
 * How the download is checked: `published` (size and SHA-256 from the catalog), `pinned` (by the first
 * complete download here), or `unpinned` (none published: the first complete download pins them).
 */
checksum: string, 
/**
 * The model's published pass@1 figures, each with its source.
 */
scores: Array<PublishedScore>, };

export type ChatMessage = { id: number, conversation_id: number, 
/**
 * `user` or `assistant`.
 */
role: string, content: string, tier: string | null, model: string | null, level: number | null, 
/**
 * How the answer came about (None for a user message, or an answer stored without a readable route).
 */
route: ChatRoute | null, prompt_tokens: number, completion_tokens: number, cost_usd: number, saved_usd: number, 
/**
 * `up`, `down`, `worked` or `failed`.
 */
feedback: string | null, 
/**
 * The prompt carried tests and this answer passed them (true) or no tier's answer did (false); None: no tests.
 */
verified: boolean | null, created_at: string, };

/**
 * How an answer came about: where the router sent the prompt, and for a prompt with checks, the verified
 * cascade (the checks and each tier's verdict).
 */
export type ChatRoute = { decision: Decision, verification: Verification | null, };

/**
 * Today's and this month's spend and savings.
 */
export type ChatTotals = { today: Totals, month: Totals, };

/**
 * One check.
 */
export type CheckItem = { kind: CheckKind, 
/**
 * The text it came from (the prompt's line or lines, the dataset's assert, what the user typed).
 */
source: string, 
/**
 * Python run after the answer: an `assert …`, or statements ending in one.
 */
code: string, };

/**
 * Where a check came from.
 */
export type CheckKind = "assert" | "doctest" | "example" | "input_output" | "stdio" | "pytest" | "dataset" | "user" | "proposed";

/**
 * Everything an answer is judged against.
 */
export type Checks = { 
/**
 * The function the checks call (guides the extraction of the code from the answer); None for a program
 * judged by its output.
 */
entry_point: string | null, 
/**
 * Code the prompt itself gives (its imports, helper functions and classes), run before the answer: an
 * answer may use `List` or a given helper without repeating them, as it could in the prompt's file.
 */
prelude: string, 
/**
 * Code run after the answer and before the checks (a dataset task's setup).
 */
setup: string, 
/**
 * A prompt that is code ending in the entry point's unwritten body (HumanEval's form): an answer that is only
 * that body (a completion) is judged as the prompt followed by it, as HumanEval does.
 */
stub: string, items: Array<CheckItem>, };

export type ClassifierMeta = { id: string, method: Method, 
/**
 * The label run the classifier learned from.
 */
labels: string, rule: Rule, levels: Array<number>, encoder: EncoderRef | null, training_hash: string, 
/**
 * Unix seconds.
 */
created: number, report: Report, 
/**
 * Zero-shot: the tier that rates.
 */
tier: string | null, 
/**
 * OpenAI: the fine-tuned model that classifies.
 */
fine_tuned_model: string | null, builtin: boolean, 
/**
 * Filled in when classifiers are listed.
 */
active: boolean, };

export type Comparison = { policy: string, at: Array<DeltaAt>, 
/**
 * Mean (curve − hull) in pass rate over cost shares 1–10%, and over the whole range the curve covers (none
 * for a policy with one operating point: it has no curve).
 */
area_low: number | null, area_all: number | null, 
/**
 * Average performance gap recovered: (curve − always-L1) / (always-top − always-L1), averaged over the cost
 * range from always-L1's cost to always-top's.
 */
apgr: number | null, };

export type Completion = { text: string, model: string, usage: Usage, finish_reason: FinishReason, latency_ms: number, 
/**
 * Usage × the tier's price, in US dollars.
 */
cost_usd: number, 
/**
 * How many HTTP attempts it took (1 = no retry).
 */
attempts: number, 
/**
 * The provider reported no token counts; they were estimated from the text (~4 characters a token).
 */
usage_estimated: boolean, };

export type Conversation = { id: number, title: string, created_at: string, messages: number, };

/**
 * How costs are counted: dollars from token prices, or the paper's unit cost per call (1 / 10 / 100).
 */
export type CostMode = "usd" | "paper_units";

/**
 * A policy's points, sorted by cost.
 */
export type Curve = { policy: string, points: Array<Point>, };

/**
 * A dataset as `dataset list` shows it.
 */
export type DatasetSummary = { name: string, format: string, source: string, tasks: number, content_sha256: string, imported_at: string, };

/**
 * Where a prompt goes and why.
 */
export type Decision = { level: number, 
/**
 * The tier that answers: the policy's choice, or the next one that can answer.
 */
tier: string, model: string, probabilities: Array<number>, levels: Array<number>, reason: string, classifier: string, 
/**
 * Expected pass rate per tier (threshold policy data), when the classifier carries it.
 */
expected: Array<number>, 
/**
 * The tier the policy chose before availability was considered.
 */
chosen: string, 
/**
 * The answer comes from a tier below the predicted need (offline or no key above it).
 */
flagged: boolean, 
/**
 * False when no tier can answer now (`route` still shows the decision; `ask` fails).
 */
available: boolean, 
/**
 * Every tier with its expected pass rate and whether it can answer (and the fix when it cannot).
 */
tiers: Array<TierStatus>, 
/**
 * The dial's budget: the target and what has been spent (the hull policy only).
 */
budget: BudgetState | null, 
/**
 * The dial's router and why (filled by the application core, which knows the verdict; None for the
 * paper map and the threshold).
 */
router: RouterUsed | null, };

/**
 * A policy against the hull at one cost share.
 */
export type DeltaAt = { cost_share: number, 
/**
 * The cost share the policy's operating point actually spends.
 */
achieved: number, pass_rate: number, 
/**
 * What the fixed tiers' hull passes at the achieved cost.
 */
hull: number, delta: number, 
/**
 * 95% bootstrap interval of `delta` (tasks resampled, the choices kept).
 */
ci: [number, number], };

/**
 * The dial's curve for Settings: what each cost share is expected to pass (the classifier's own estimate on the
 * prompts λ is calibrated on), and where the saved setting sits.
 */
export type DialCurve = { 
/**
 * (cost share, expected pass rate), cheapest first.
 */
points: Array<[number, number]>, operating: [number, number], lambda: number, 
/**
 * Held-out prompts of the label run, and the user's own routed prompts, in the calibration.
 */
held_out: number, user: number, };

/**
 * What a download reports to a window: throttled progress (a smooth bar, not a message per 16 KiB chunk),
 * then, for a dataset, the import.
 */
export type DownloadEvent = { "event": "progress", received: number, total: number | null, } | { "event": "importing" };

export type EncoderRef = { id: string, sha256: string, };

/**
 * Where the sentence encoder is, and whether it is installed.
 */
export type EncoderStatus = { id: string, dir: string, present: boolean, };

/**
 * One epoch's figures, for progress bars and the Fine-tune tab's live chart.
 */
export type EpochReport = { epoch: number, epochs: number, loss: number, train_accuracy: number, 
/**
 * Accuracy on the held-out part when the caller gave one (reported, never used to pick the model).
 */
held_out_accuracy: number | null, };

/**
 * The closed list of error codes that cross to the UI (snake_case in JSON).
 */
export type ErrorCode = "store_too_new" | "store_unavailable" | "dataset_malformed" | "dataset_unreadable" | "dataset_not_found" | "task_not_found" | "dataset_exists" | "invalid_name" | "download_failed" | "download_corrupt" | "unknown_dataset" | "sandbox_unavailable" | "invalid_arguments" | "unknown_tier" | "keychain_unavailable" | "provider_auth" | "provider_rate_limited" | "provider_quota" | "context_length" | "provider_server" | "provider_network" | "provider_timeout" | "provider_bad_request" | "cancelled" | "local_runtime_unavailable" | "model_invalid" | "unknown_model" | "disk_full" | "unknown_run" | "labels_unusable" | "unknown_classifier" | "encoder_missing" | "fine_tune_failed" | "no_tier_available" | "job_running" | "spend_cap_reached" | "internal";

export type Estimate = { tasks: number, trials: number, tiers: Array<EstimateRow>, cost_usd: number, budget_usd: number | null, };

/**
 * One tier's dry-run estimate.
 */
export type EstimateRow = { tier: string, calls: number, prompt_tokens: number, completion_tokens: number, cost_usd: number, };

export type EvalReport = { labels: string, classifier: string, rule: string, tiers: Array<string>, costs: Array<number>, cost_unit: string, 
/**
 * Every task routed and scored (unsolved ones included, unless the report is of the cleaned view).
 */
n: number, 
/**
 * Of those, the labeled ones (some tier solved them): the classifier's own metrics are over these.
 */
labeled: number, folds: number, 
/**
 * The tasks, in the order of every point's `choices`.
 */
task_ids: Array<string>, classifier_metrics: Metrics, 
/**
 * How well each tier's pass probability is predicted on the held-out folds.
 */
tier_metrics: Array<TierMetrics>, 
/**
 * Always L1, always L2, …; the hull is drawn through them.
 */
fixed: Array<Point>, 
/**
 * The index in `fixed` of always-mid (the tier to beat at its cost).
 */
always_mid: number, 
/**
 * The upper hull of the fixed tiers, as (cost share, pass rate) vertices.
 */
hull: Array<[number, number]>, 
/**
 * The hull's own APGR over the same cost range (what mixing fixed tiers recovers): a policy's APGR means
 * something only beside it.
 */
hull_apgr: number, random: Point, oracle: Point, curves: Array<Curve>, comparisons: Array<Comparison>, 
/**
 * The saved policy at its setting.
 */
routed: Point, cascades: Array<Point>, cascade_caveat: string, 
/**
 * The cascade verified by the prompt's checks and scored by the dataset's tests, when asked for.
 */
honest: HonestCascade | null, };

/**
 * The Evaluate tab's report: the numbers, the plot and the Markdown.
 */
export type Evaluation = { report: EvalReport, svg: string, markdown: string, };

export type ExportFormat = "markdown" | "json";

/**
 * What was run of an answer: shown beside the raw answer in `verify --json`, stored with each trial, and
 * shown in the Labeling tab.
 */
export type Extraction = { 
/**
 * The reading of the answer that was chosen, e.g. "fenced block 2 of 3", "code before the first fence".
 */
candidate: string, 
/**
 * The top-level statements kept, as their first line (`def heap_sort(iterable):`, `import heapq`).
 */
kept: Array<string>, 
/**
 * What was dropped from the chosen reading, each with why (`print(f(3)) — an example print`).
 */
dropped: Array<string>, };

export type FinishReason = "stop" | "length" | "tool_calls" | "cancelled" | { "other": string };

/**
 * The file formats `dataset import` reads.
 */
export type Format = "mbpp" | "humaneval" | "jsonl" | "csv";

export type HeldOut = { task_id: string, probabilities: Array<number>, 
/**
 * Each tier's calibrated probability of passing (the `pass` method; empty for level-only methods).
 */
tier_pass: Array<number>, };

/**
 * The honest cascade: verified by what the prompt shows, scored by the dataset's held-out tests.
 */
export type HonestCascade = { 
/**
 * How verification saw each task, and how it was scored.
 */
protocol: string, 
/**
 * The share of tasks whose prompt shows checks (the rest go to the top tier unverified).
 */
checked_share: number, cascades: Array<Point>, judge: Array<JudgeMetrics>, };

export type ImportOutcome = { name: string, format: Format, tasks: number, status: ImportStatus, content_sha256: string, };

/**
 * What an import did.
 */
export type ImportStatus = "created" | "unchanged" | "replaced";

export type Job = { id: string, status: string, model: string, fine_tuned_model: string | null, error: JsonValue | null, trained_tokens: number | null, };

export type JobEvent = { id: string, created_at: number, level: string, message: string, };

/**
 * A running job as listed.
 */
export type JobInfo = { id: string, kind: JobKind, seconds: number, cancelled: boolean, };

export type JobKind = "chat" | "ask" | "dataset_download" | "model_download" | "label_run" | "training";

/**
 * What the follower reports while a job runs.
 */
export type JobUpdate = { "kind": "status", job: string, status: string, } | { "kind": "event", job: string, event: JobEvent, };

export type JsonValue = number | string | boolean | Array<JsonValue> | { [key in string]: JsonValue } | null;

/**
 * The shown checks as a judge of one tier's answers (the dataset's tests being the truth).
 */
export type JudgeMetrics = { tier: string, 
/**
 * Answers judged (of tasks whose prompt shows checks).
 */
answers: number, 
/**
 * Of the answers the checks accepted, the share the dataset's tests pass.
 */
precision: number, 
/**
 * Of the answers the dataset's tests pass, the share the checks accepted.
 */
recall: number, };

/**
 * A provider as `keys list` shows it.
 */
export type KeyListing = { provider: string, 
/**
 * `…abcd`, or None when no key is stored.
 */
key: string | null, };

/**
 * The providers with their keys, masked to the last 4 characters.
 */
export type KeyTable = { keychain: string, 
/**
 * Why no key can be saved here (the keychain failed a write-read-delete round trip) and what to start; the
 * window shows it beside the key fields. None when keys save.
 */
problem: string | null, providers: Array<KeyListing>, };

/**
 * A stored trial, as a label run reports it while it goes.
 */
export type LabelEvent = { "event": "started", name: string, per_tier: number, stored: Array<number>, passes: Array<number>, spent_usd: number, } | { "event": "trial", tier_index: number, passed: boolean, cost_usd: number, };

/**
 * A label run as the CLI's flags and the Labeling tab's form give it.
 */
export type LabelRequest = { 
/**
 * The run's name; starting the same name again resumes it [default: DATASET-K].
 */
name: string | null, dataset: string, 
/**
 * Ordered tiers L1,L2,…: tier names, PROVIDER:MODEL, or replay:MODEL (with `replay`).
 */
tiers: Array<string>, trials: number, temperature: number, max_tokens: number, seed: number, 
/**
 * Stop issuing requests before the spend would pass this many dollars.
 */
budget?: number | null, 
/**
 * Only the first N tasks.
 */
limit?: number | null, 
/**
 * A seeded random sample of N tasks.
 */
sample?: number | null, rule: string, 
/**
 * The threshold rule's share of trials a tier must pass.
 */
fraction?: number | null, 
/**
 * Recorded answers (task_id, model, trial, output) for replay:MODEL tiers.
 */
replay?: string | null, 
/**
 * Sandbox checks in parallel [default: one per core].
 */
jobs?: number | null, 
/**
 * Time limit per check, in CPU time (a check that only waits is stopped at 3× on the wall clock).
 */
timeout_ms: number, 
/**
 * Exactly these tasks, in this order (a calibration run's stratified sample).
 */
task_ids?: Array<string> | null, };

/**
 * A task's counts and label in a run.
 */
export type LabelRow = { task_id: string, 
/**
 * Passes per tier, L1..LK.
 */
counts: Array<number>, 
/**
 * Trials stored per tier (a label needs all of them).
 */
trials: Array<number>, level: number | null, dropped: boolean, };

/**
 * Whether the local tier has its model.
 */
export type LocalStatus = { 
/**
 * The local tier's model (a registered or catalog name).
 */
model: string, installed: boolean, 
/**
 * The catalog model to download when it is not installed.
 */
suggested: string | null, };

export type Method = "zero-shot" | "tfidf" | "head" | "finetune" | "openai" | "pass";

export type Metrics = { n: number, accuracy: number, macro_f1: number, within_one: number, 
/**
 * 95% bootstrap intervals [low, high].
 */
accuracy_ci: [number, number], macro_f1_ci: [number, number], within_one_ci: [number, number], 
/**
 * The levels, in the order of the matrix rows (true) and columns (predicted).
 */
levels: Array<number>, confusion: Array<Array<number>>, per_level: Array<PerLevel>, };

export type ModelRow = { name: string, path: string, bytes: number, architecture: string, parameters: number, quantization: string, context_length: number | null, has_chat_template: boolean, source: string, added_at: string, };

/**
 * A registered model as the Models tab and `models list` show it.
 */
export type ModelView = { file_present: boolean, 
/**
 * What running it takes with a 4096-token context.
 */
memory_estimate_bytes: number | null, loaded: boolean, name: string, path: string, bytes: number, architecture: string, parameters: number, quantization: string, context_length: number | null, has_chat_template: boolean, source: string, added_at: string, };

export type PerLevel = { level: number, precision: number, recall: number, f1: number, support: number, };

/**
 * A routing outcome over the labeled tasks.
 */
export type Point = { name: string, 
/**
 * The setting that produced it (the dial's target share, τ), when it has one.
 */
setting: number | null, pass_rate: number, 
/**
 * Mean cost per task, in the report's cost unit.
 */
cost: number, 
/**
 * Cost as a share of always using the top tier.
 */
relative_cost: number, 
/**
 * The paper's savings formula: 1 − cost / cost(always top).
 */
savings_vs_top: number, 
/**
 * The share of tasks sent to each tier.
 */
tier_share: Array<number>, 
/**
 * The tier (0-based) each task went to, in `task_ids` order (for a cascade: the last tier it reached).
 */
choices: Array<number>, };

export type PolicyKind = "dial" | "paper" | "threshold";

export type Prediction = { level: number, probabilities: Array<number>, levels: Array<number>, classifier: string, 
/**
 * Each tier's probability of passing: predicted by the `pass` method, else derived from the level
 * probabilities and the label run's pass rate of each tier on each level.
 */
tier_pass: Array<number>, };

/**
 * A named set of tiers with prices (and, where one is published, each model's MBPP pass rate), from
 * `resources/tiers.json`: current models by default, the paper's three for reproducing it.
 */
export type Preset = { name: string, title: string, 
/**
 * Where the prices and figures come from, and when they were read.
 */
source: string, tiers: Array<PresetTier>, };

export type PresetTier = { name: string, provider: string, model: string, input_per_1k: number, output_per_1k: number, paper_units: number, 
/**
 * The model's MBPP pass@1 as EvalPlus reports it, when there is one.
 */
published_mbpp?: number | null, 
/**
 * The model's context window and longest answer in tokens, and whether it reads images, as its provider
 * documents them.
 */
context_window?: number | null, max_output?: number | null, vision: boolean, };

export type ProviderKind = "openai" | "anthropic" | "local";

export type ProviderRow = { name: string, kind: ProviderKind, base_url: string, concurrency: number, timeout_s: number, };

/**
 * A provider's fields; None keeps the current value.
 */
export type ProviderUpdate = { kind?: ProviderKind | null, base_url?: string | null, concurrency?: number | null, timeout_s?: number | null, };

/**
 * A benchmark figure a model's authors published.
 */
export type PublishedScore = { benchmark: string, pass_at_1: number, source: string, };

export type Report = { method: Method, source: string, rule: Rule, levels: Array<number>, n: number, counts: Array<[number, number]>, training_hash: string, folds: number, seed: number, test_fraction: number, 
/**
 * On the held-out 20%.
 */
split: Metrics, 
/**
 * Over all folds' held-out predictions (each example predicted once, by a model that never saw it).
 */
cv: Metrics | null, fold_accuracy: Array<number>, 
/**
 * The floor every method must clear: always predicting the training part's most common level, scored on
 * the same held-out parts (cross-validated when there are folds, else the split).
 */
majority: Metrics | null, 
/**
 * Each example's probabilities from the fold that held it out (never from a model that saw it): what the
 * router's evaluation scores routing on.
 */
cv_predictions: Array<HeldOut>, 
/**
 * The label run's tiers and their measured pass rate per level ([level][tier]).
 */
tiers: Array<string>, tier_success: Array<Array<number>>, 
/**
 * Fitting the deployed model on all labels.
 */
train_seconds: number, 
/**
 * The whole run: evaluation rounds and the final fit.
 */
total_seconds: number, params: JsonValue, 
/**
 * Zero-shot answers that named no level.
 */
unparsed: number, 
/**
 * Cloud fine-tuning jobs, one per round.
 */
jobs: Array<Job>, 
/**
 * Per tier, how well its pass probability is predicted (the `pass` method).
 */
tier_metrics: Array<TierMetrics>, };

/**
 * Per-call changes to the saved policy (`--policy`, `--tau`, `--map`, `--cost-share`, `--classifier`).
 */
export type RouteOverrides = { policy?: PolicyKind | null, tau?: number | null, 
/**
 * An edited paper map; an empty one restores the paper's.
 */
map?: string | null, 
/**
 * The dial's share of always-top's cost.
 */
cost_share?: number | null, 
/**
 * The dial's least expected pass rate (instead of a cost share).
 */
min_pass?: number | null, 
/**
 * Route with this classifier instead of the active one.
 */
classifier?: string | null, 
/**
 * The highest tier this request may use (a chat's "never the top tier"); None: any.
 */
max_tier?: string | null, 
/**
 * The verified cascade's bar: the least trust a pass must earn to end it (router::trust); None: the
 * measured default.
 */
trust_bar?: number | null, };

/**
 * The routing policy as the user saves it in Settings (`route-policy`), used by the chat, `ask`, `route` and the
 * server. The store keeps it in its settings table (`complexitynet_engine::settings`).
 */
export type RouteSettings = { policy: PolicyKind, 
/**
 * The threshold policy's τ.
 */
tau: number, 
/**
 * An edited paper map (`1-2:1,3-4:2,5:3`); None: the paper's map for the classifier's rule.
 */
map: string | null, 
/**
 * The dial's target: the share of always-top's cost to spend (0.10 = a tenth).
 */
cost_share: number, 
/**
 * The dial's other target: the least expected pass rate (the cheapest routing that reaches it); when set,
 * it is used instead of the cost share.
 */
min_pass: number | null, };

/**
 * Which router decided a dial prompt, and why: the hull of the fixed tiers unless held-out evaluation on the
 * user's own tiers' answers put the learned router above it (a shipped or replayed verdict never does).
 */
export type RouterUsed = { 
/**
 * `hull` or `learned`.
 */
name: string, 
/**
 * Why, in words, with the figures.
 */
why: string, };

export type Rule = { "rule": "paper5", trials: number, } | { "rule": "single3" } | { "rule": "threshold", trials: number, fraction: number, };

/**
 * The run's configuration, stored with it: a resumed run must match it.
 */
export type RunConfig = { tiers: Array<string>, trials: number, temperature: number, max_tokens: number, seed: number, task_ids: Array<string>, 
/**
 * Time limit per check, in CPU time (the sandbox stops a check that only waits at 3× on the wall clock).
 * Generous by default (10 s, as the reference re-execution of the recorded answers used): some correct
 * answers compute for seconds (GPT-4's answer to MBPP task 123 takes 9.8 s), and counting CPU rather than
 * wall time keeps a verdict from flipping with the machine's load.
 */
timeout_ms: number, };

export type RunSummary = { name: string, dataset: string, status: string, rule: Rule, config: RunConfig, trials_stored: number, trials_total: number, 
/**
 * Per tier: passes, trials stored, pass rate.
 */
tiers: Array<TierStats>, histogram: { [key in string]: number }, spent_usd: number, labels: Array<LabelRow>, };

/**
 * A fixed tier on the calibration sample.
 */
export type SamplePoint = { tier: string, cost_share: number, pass_rate: number, };

/**
 * What the user sets for the local server (Settings, `serve` flags); the key is not here: it lives in memory for
 * one start only.
 */
export type ServerSettings = { 
/**
 * Web origins (`https://app.example`) whose pages may call the server, CORS included. Empty by default.
 */
allowed_origins: Array<string>, 
/**
 * Extra host names the server may be reached by (a name in /etc/hosts for 127.0.0.1, say).
 */
allowed_hosts: Array<string>, 
/**
 * The most that requests through the server may spend per day (UTC), in the cost mode in use (dollars or
 * the paper's units); over it, paid tiers are refused and the local tier still answers. None: no cap.
 */
daily_cap: number | null, 
/**
 * A model name no tier serves (a client's own, `claude-sonnet-4-5` say) goes straight to the top tier's
 * provider under that name instead of being routed.
 */
pass_through: boolean, };

export type ServerStatus = { running: boolean, url: string | null, 
/**
 * This start's bearer key, for the page to show and copy (it lives in memory only); None when the server
 * runs without one (the user's explicit choice) or is stopped.
 */
key: string | null, };

export type TaskPage = { dataset: string, 
/**
 * Tasks matching the query, before paging.
 */
total: number, offset: number, tasks: Array<TaskRow>, };

/**
 * A task as a list row shows it (the full task comes from [`get_task`]).
 */
export type TaskRow = { task_id: string, prompt: string, entry_point: string, asserts: number, };

/**
 * A task as the CLI's `--json` and the UI show it: the entry point flattened to `entry_point` (the function
 * name), `signature` and `arity`, and the dataset it belongs to.
 */
export type TaskView = { dataset: string, task_id: string, prompt: string, reference: string | null, setup: string, asserts: Array<string>, challenge_asserts: Array<string>, entry_point: string, signature: string, arity: number, };

/**
 * What is known of a tier's model.
 */
export type TierAbility = { tier: string, model: string, 
/**
 * Ability (logits on the difficulty scale); None: nothing is known of this model.
 */
ability: number | null, 
/**
 * The pass rate that ability means on the reference benchmark (MBPP).
 */
rate: number | null, 
/**
 * `outcomes`, `calibrated`, `published`, or `unknown`.
 */
source: string, 
/**
 * In words: "known from 37 of your prompts", "calibrated on 100 MBPP tasks", "published: MBPP 74.9% (…)".
 */
detail: string, 
/**
 * How many of the user's verified outcomes with this model went into it.
 */
prompts: number, 
/**
 * The uncertainty of `rate` (one standard deviation) once the user's outcomes update it; None for a figure
 * alone. The budget's mix leans to the cheaper of two tiers this cannot tell apart.
 */
rate_sd: number | null, };

/**
 * A tier's fields; None keeps the current value.
 */
export type TierFields = { provider?: string | null, model?: string | null, 
/**
 * US dollars per 1K input tokens.
 */
price_in?: number | null, 
/**
 * US dollars per 1K output tokens.
 */
price_out?: number | null, 
/**
 * The paper's unit cost of one call.
 */
units?: number | null, 
/**
 * The tier's model's published pass rate, `mbpp:0.66`: what the router knows of it until your own outcomes
 * or a calibration say more.
 */
published?: string | null, 
/**
 * The model's context window in tokens (0 clears it: not known).
 */
context_window?: number | null, 
/**
 * The longest answer the model writes, in tokens (0 clears it).
 */
max_output?: number | null, 
/**
 * The model reads images.
 */
vision?: boolean | null, };

/**
 * How well a tier's pass probability is predicted, on held-out folds.
 */
export type TierMetrics = { tier: string, 
/**
 * The share of tasks (trials) the tier passed.
 */
base_rate: number, 
/**
 * Area under the ROC curve of "the tier passes" (a pass fraction ≥ ½ counts as a pass).
 */
auc: number, 
/**
 * Mean squared error of the probability against the pass fraction.
 */
brier: number, 
/**
 * Expected calibration error over 10 bins of predicted probability.
 */
ece: number, };

export type TierRow = { name: string, position: number, provider: string, model: string, input_per_1k: number, output_per_1k: number, paper_units: number, 
/**
 * The model's context window in tokens (prompt and answer together); None: not known, not checked.
 */
context_window?: number | null, 
/**
 * The longest answer the model writes, in tokens; a request asking for more is asked for this much.
 */
max_output?: number | null, 
/**
 * The model reads images.
 */
vision: boolean, };

/**
 * A tier's results in a run.
 */
export type TierStats = { tier: string, passes: number, trials: number, pass_rate: number, };

/**
 * One tier as a decision shows it.
 */
export type TierStatus = { tier: string, model: string, 
/**
 * The probability that this tier's model passes the prompt, when something is known of that model.
 */
expected: number | null, available: boolean, note: string, 
/**
 * The model the classifier's figure for this tier was learned for (None: the classifier has none).
 */
learned_for: string | null, 
/**
 * Whether `expected` is a figure for this tier's own model (learned for it, calibrated on it, or from its
 * published pass rate); false: nothing is known of it, and `expected` is empty.
 */
calibrated: boolean, 
/**
 * Where `expected` comes from, in words.
 */
source: string, };

/**
 * The tiers, the providers and the cost mode.
 */
export type TierTable = { cost_mode: CostMode, tiers: Array<TierRow>, providers: Array<ProviderRow>, 
/**
 * What is known of each tier's model, in tier order.
 */
abilities: Array<TierAbility>, };

export type Totals = { answers: number, 
/**
 * Every attempt's cost, kept or not.
 */
cost_usd: number, 
/**
 * Savings against always-top, of the answers that can be kept only.
 */
saved_usd: number, 
/**
 * Answers that failed their tests or that you marked as failing (they claim no savings).
 */
failing: number, };

/**
 * Progress of a training run.
 */
export type TrainEvent = { "kind": "round", round: string, index: number, total: number, } | { "kind": "epoch", round: string, epoch: EpochReport, } | { "kind": "job", round: string, update: JobUpdate, };

/**
 * What to train: the CLI's flags and the Fine-tune tab's form alike.
 */
export type TrainRequest = { 
/**
 * A label run, or `personal` (the chat answers marked as working or failing).
 */
labels: string, 
/**
 * zero-shot, tfidf, head, finetune or openai.
 */
method: string, 
/**
 * Cross-validation folds [default: 5; 0 for openai, where each fold is a paid job].
 */
folds?: number | null, seed: number, epochs?: number | null, learning_rate?: number | null, weight_decay?: number | null, train_token_table: boolean, 
/**
 * zero-shot: the tier that rates [default: mid].
 */
tier?: string | null, 
/**
 * openai: the base model [default: gpt-4o-mini-2024-07-18].
 */
base_model?: string | null, 
/**
 * openai: the provider whose endpoint and key to use [default: openai].
 */
provider?: string | null, 
/**
 * Fail unless the labels come from this rule.
 */
rule?: string | null, name?: string | null, activate: boolean, };

/**
 * A stored trial for the drill-down view.
 */
export type TrialView = { tier: string, trial: number, verdict: string, verdict_json: JsonValue, answer: string, code: string, 
/**
 * Which reading of the answer was run (None for trials stored before it was recorded).
 */
extraction: Extraction | null, cost_usd: number, };

export type Usage = { prompt_tokens: number, completion_tokens: number, 
/**
 * Of the prompt tokens, those read from the provider's prompt cache (billed at its cache rate).
 */
cached_tokens: number, };

/**
 * How `usage` groups the ledger.
 */
export type UsageBy = "day" | "tier" | "source" | "client" | "conversation";

/**
 * One group of the ledger: calls, tokens, what they cost and what always-top would have cost for the prompts
 * they answered.
 */
export type UsageRow = { key: string, calls: number, 
/**
 * Calls that failed (no answer, no cost).
 */
failed: number, prompt_tokens: number, completion_tokens: number, cached_tokens: number, cost_usd: number, 
/**
 * What the top tier would have charged for the same answers.
 */
top_usd: number, };

/**
 * What the sandbox said of an answer whose prompt carried checks.
 */
export type Verification = { 
/**
 * The answer passed its checks. False: no tier's answer did, and the last one is returned, marked failing.
 */
passed: boolean, 
/**
 * How many checks the answer ran against.
 */
tests: number, 
/**
 * The checks, with where each came from.
 */
checks: Array<CheckItem>, steps: Array<VerifiedStep>, 
/**
 * What the answer's pass is worth: the chance an answer that passed this many checks from this tier's model
 * is right (router::trust, measured on MBPP+ with models held out). None: it did not pass, or nothing is
 * known of the model.
 */
trust?: number | null, };

/**
 * One tier's verified answer, as an answer's record shows it (the chat, `ask --json`, the server).
 */
export type VerifiedStep = { tier: string, model: string, 
/**
 * The verdict in words (`passed (3/3 asserts passed)`, `failed at assert 2 …`).
 */
verdict: string, passed: boolean, cost_usd: number, };
