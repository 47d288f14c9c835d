import { Fragment, useCallback, useEffect, useRef, useState, type ReactNode } from "react";
import { budgetStatus, chatConversations, chatExport, chatFeedback, chatMessages, chatSend, chatTotals, jobCancel, promptChecks, proposeChecks, tiersList } from "../ipc/commands";
import type { AppError } from "../ipc/errors";
import type { BudgetStatus, ChatMessage, ChatTotals, CheckItem, CheckKind, Checks, Conversation, Decision, VerifiedStep } from "../ipc/types";
import { usd } from "../money";
import { ErrorBanner } from "./ErrorBanner";

/** Splits an answer into prose and fenced code blocks (with their language), for display. */
export function blocks(text: string): { code: boolean; lang: string; text: string }[] {
  const out: { code: boolean; lang: string; text: string }[] = [];
  const re = /```([\w+-]*)\n?([\s\S]*?)(```|$)/g;
  let last = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (m.index > last) out.push({ code: false, lang: "", text: text.slice(last, m.index) });
    out.push({ code: true, lang: m[1] || "", text: m[2].replace(/\n$/, "") });
    last = m.index + m[0].length;
    if (m[0].length === 0) break;
  }
  if (last < text.length) out.push({ code: false, lang: "", text: text.slice(last) });
  return out.filter((b) => b.text.trim() !== "" || b.code);
}

const KEYWORDS = /\b(def|return|if|elif|else|for|while|in|import|from|class|lambda|not|and|or|None|True|False|try|except|with|as|yield|fn|let|const|function)\b/g;

/** Code with its keywords, strings and comments marked for highlighting. */
function Code({ text, lang }: { text: string; lang: string }) {
  const parts: ReactNode[] = [];
  text.split("\n").forEach((line, i) => {
    const comment = line.indexOf("#") >= 0 && lang !== "js" ? line.indexOf("#") : -1;
    const body = comment >= 0 ? line.slice(0, comment) : line;
    const tokens = body.split(/("[^"]*"|'[^']*')/);
    parts.push(
      <Fragment key={i}>
        {tokens.map((t, j) =>
          /^["']/.test(t) ? (
            <span key={j} className="tok-str">
              {t}
            </span>
          ) : (
            t.split(KEYWORDS).map((w, k) =>
              k % 2 === 1 ? (
                <span key={`${j}-${k}`} className="tok-kw">
                  {w}
                </span>
              ) : (
                w
              ),
            )
          ),
        )}
        {comment >= 0 && <span className="tok-com">{line.slice(comment)}</span>}
        {"\n"}
      </Fragment>,
    );
  });
  return (
    <pre className="code" data-lang={lang}>
      <code>{parts}</code>
    </pre>
  );
}

function Answer({ text }: { text: string }) {
  return (
    <div className="answer-text">
      {blocks(text).map((b, i) => (b.code ? <Code key={i} text={b.text} lang={b.lang} /> : <p key={i}>{b.text.trim()}</p>))}
    </div>
  );
}

/** A verified step as the live view hears it (its cost arrives with the stored answer). */
type LiveStep = Pick<VerifiedStep, "tier" | "model" | "verdict" | "passed"> & { cost_usd?: number };

function Cascade({ steps }: { steps: LiveStep[] }) {
  return (
    <ol className="cascade small">
      {steps.map((s, i) => (
        <li key={i} className={s.passed ? "passed" : "failed"}>
          <strong>{s.tier}</strong> {s.model && <span className="muted">{s.model}</span>}: {s.verdict}
          {s.cost_usd !== undefined && <span className="muted"> · {usd(s.cost_usd)}</span>}
        </li>
      ))}
    </ol>
  );
}

const KIND_LABEL: Record<CheckKind, string> = {
  assert: "assert",
  doctest: "doctest",
  example: "example",
  input_output: "input/output",
  stdio: "stdin/stdout",
  pytest: "pytest",
  dataset: "dataset test",
  user: "yours",
  proposed: "proposed",
};

/** The checks an answer was verified against, folded under it. */
function AnswerChecks({ checks }: { checks: CheckItem[] }) {
  if (checks.length === 0) return null;
  return (
    <details className="answer-checks small">
      <summary>
        verified against {checks.length} check{checks.length === 1 ? "" : "s"}
      </summary>
      <ul>
        {checks.map((c, i) => (
          <li key={i} data-kind={c.kind}>
            <span className="check-kind">{KIND_LABEL[c.kind]}</span> <code>{c.code}</code>
          </li>
        ))}
      </ul>
    </details>
  );
}

/** Editable checks: each one's code in a box that grows with it, with where it came from. */
function CheckList({ items, onChange, idPrefix }: { items: CheckItem[]; onChange: (items: CheckItem[]) => void; idPrefix: string }) {
  return (
    <ul className="check-list">
      {items.map((c, i) => (
        <li key={i} className="check-item" data-kind={c.kind}>
          <span className="check-kind" title={c.source}>
            {KIND_LABEL[c.kind]}
          </span>
          <textarea
            aria-label={`Check ${i + 1}`}
            id={`${idPrefix}-${i}`}
            className="check-code"
            rows={Math.min(8, c.code.split("\n").length)}
            value={c.code}
            onChange={(e) => onChange(items.map((x, j) => (j === i ? { ...x, code: e.target.value, kind: x.kind === "proposed" ? "proposed" : "user" } : x)))}
          />
          <button className="icon" aria-label={`Remove check ${i + 1}`} onClick={() => onChange(items.filter((_, j) => j !== i))}>
            ✕
          </button>
        </li>
      ))}
    </ul>
  );
}

/** An answer's standing in the ledger: what it cost, and the savings it claims — none for a failing one. */
function Meta({ m }: { m: ChatMessage }) {
  const failing = m.verified === false || m.feedback === "failed" || m.feedback === "down";
  return (
    <div className="small muted msg-meta">
      {m.tier} · {m.model} · {m.prompt_tokens} + {m.completion_tokens} tokens · {usd(m.cost_usd)}
      {m.verified === true && <span className="verified-pass"> · passed its tests</span>}
      {m.verified === false && <strong className="verified-fail"> · failed its tests on every tier tried</strong>}
      {failing ? <span className="no-savings"> · no savings claimed</span> : <> · saved {usd(m.saved_usd)}</>}
    </div>
  );
}

function RouteLine({ d }: { d: Decision }) {
  return (
    <div className="route" data-level={d.level} data-tier={d.tier}>
      <span className="level-badge">level {d.level}</span> → <strong className="route-tier">{d.tier}</strong> <span className="muted">{d.model}</span>
      {d.flagged && <span className="flag"> answered by a cheaper tier than the one chosen</span>}
      <span className="muted small"> · {d.reason}</span>
      {d.tiers.length > 0 && (
        <details className="route-tiers small">
          <summary>what routing knows of each tier</summary>
          <ul>
            {d.tiers.map((t) => (
              <li key={t.tier} data-tier={t.tier} data-calibrated={t.calibrated}>
                {t.tier} <span className="muted">{t.model}</span>: {t.calibrated && t.expected != null ? `passes ${Math.round(100 * t.expected)}% (${t.source})` : t.source}
              </li>
            ))}
          </ul>
        </details>
      )}
    </div>
  );
}

const FEEDBACK: [string, string][] = [
  ["up", "Good answer"],
  ["down", "Bad answer"],
  ["worked", "✓ Code worked"],
  ["failed", "✗ Code failed"],
];

export function ChatTab() {
  const [conversations, setConversations] = useState<Conversation[]>([]);
  const [current, setCurrent] = useState<number | null>(null);
  const [messages, setMessages] = useState<ChatMessage[]>([]);
  const [tiers, setTiers] = useState<string[]>([]);
  const [override, setOverride] = useState("");
  // The highest tier this chat may use ("never the top tier"), kept per conversation while the window is open.
  const [caps, setCaps] = useState<Record<string, string>>({});
  const cap = caps[String(current)] ?? "";
  const setCap = (t: string) => setCaps((c) => ({ ...c, [String(current)]: t }));
  const [prompt, setPrompt] = useState("");
  // The checks the prompt shows (read as it is typed); the ones the user settled on (edited, added, accepted)
  // replace them when set; checks a tier proposed wait for the user's edits and acceptance.
  const [derived, setDerived] = useState<Checks | null>(null);
  const [chosen, setChosen] = useState<CheckItem[] | null>(null);
  const [proposed, setProposed] = useState<CheckItem[] | null>(null);
  const [proposer, setProposer] = useState("");
  const [proposing, setProposing] = useState(false);
  const [live, setLive] = useState<{ prompt: string; decision: Decision | null; text: string; steps: LiveStep[]; checks: string | null } | null>(null);
  const [totals, setTotals] = useState<ChatTotals | null>(null);
  const [budget, setBudget] = useState<BudgetStatus | null>(null);
  const [error, setError] = useState<AppError | null>(null);
  const [exported, setExported] = useState<string | null>(null);
  const end = useRef<HTMLDivElement>(null);
  const input = useRef<HTMLTextAreaElement>(null);

  const refresh = useCallback(async (conv: number | null) => {
    try {
      const [c, t, tt] = await Promise.all([chatConversations(), chatTotals(), tiersList()]);
      setConversations(c);
      setTotals(t);
      setTiers(tt.tiers.map((x) => x.name));
      setMessages(conv === null ? [] : await chatMessages(conv));
      setBudget(await budgetStatus().catch(() => null));
    } catch (e) {
      setError(e as AppError);
    }
  }, []);
  useEffect(() => {
    void refresh(current);
    setExported(null);
  }, [refresh, current]);
  useEffect(() => end.current?.scrollIntoView?.({ block: "end" }), [messages, live]);
  // The message box grows with its text, up to a third of the window.
  useEffect(() => {
    const el = input.current;
    if (!el) return;
    el.style.height = "auto";
    el.style.height = `${Math.min(el.scrollHeight + 2, Math.max(120, window.innerHeight / 3))}px`;
  }, [prompt]);
  // The checks the prompt shows, read a moment after the typing stops.
  useEffect(() => {
    if (!prompt.trim()) {
      setDerived(null);
      return;
    }
    let stale = false;
    const t = setTimeout(() => {
      promptChecks(prompt)
        .then((c) => !stale && setDerived(c))
        .catch(() => !stale && setDerived(null));
    }, 250);
    return () => {
      stale = true;
      clearTimeout(t);
    };
  }, [prompt]);

  const checks = chosen ?? derived?.items ?? [];
  const send = async (text: string, tier: string | null, withChecks: CheckItem[] | null) => {
    if (!text.trim() || live) return;
    setLive({ prompt: text, decision: null, text: "", steps: [], checks: null });
    setPrompt("");
    setChosen(null);
    setProposed(null);
    try {
      const answer = await chatSend(current, text, tier, cap || null, withChecks, (e) =>
        setLive((l) => {
          if (!l) return l;
          if (e.event === "routed") return { ...l, decision: e.decision };
          if (e.event === "checks") return { ...l, checks: e.summary };
          if (e.event === "step") return { ...l, steps: [...l.steps, { tier: e.tier, model: e.model, verdict: e.verdict, passed: e.passed }] };
          if (e.event === "piece") return { ...l, text: l.text + e.text };
          return l;
        }),
      );
      if (current === null && cap) setCaps((c) => ({ ...c, [String(answer.conversation_id)]: cap }));
      setCurrent(answer.conversation_id);
      await refresh(answer.conversation_id);
    } catch (e) {
      setError(e as AppError);
      await refresh(current);
    } finally {
      setLive(null);
    }
  };
  const sendPrompt = () => void send(prompt, override || null, chosen);

  const propose = async () => {
    setProposing(true);
    try {
      setProposed(await proposeChecks(prompt, proposer || null));
    } catch (e) {
      setError(e as AppError);
    } finally {
      setProposing(false);
    }
  };

  const lastPrompt = [...messages].reverse().find((m) => m.role === "user")?.content ?? "";
  const feedback = async (m: ChatMessage, f: string) => {
    try {
      await chatFeedback(m.id, m.feedback === f ? null : f);
      await refresh(current);
    } catch (e) {
      setError(e as AppError);
    }
  };
  const doExport = async (format: "markdown" | "json") => {
    if (current === null) return;
    try {
      setExported(await chatExport(current, format));
    } catch (e) {
      setError(e as AppError);
    }
  };

  const summary =
    chosen !== null
      ? `${chosen.length} check${chosen.length === 1 ? "" : "s"} you settled on`
      : `${checks.length} check${checks.length === 1 ? "" : "s"} from the prompt's examples`;

  return (
    <section className="chat">
      <div className="chat-head">
        <h1>Chat</h1>
        {totals && (
          <p className="small muted" id="chat-totals">
            today {usd(totals.today.cost_usd)} spent, {usd(totals.today.saved_usd)} saved · this month {usd(totals.month.cost_usd)} spent,{" "}
            {usd(totals.month.saved_usd)} saved against always using the top tier
            {totals.month.failing > 0 && <> · {totals.month.failing === 1 ? "1 failing answer this month claims" : `${totals.month.failing} failing answers this month claim`} no savings</>}
          </p>
        )}
        {budget && (
          <p className="small muted" id="chat-budget">
            routing budget {(100 * budget.target).toFixed(0)}% of always-top's cost · realized{" "}
            {budget.realized === null ? "nothing yet" : `${(100 * budget.realized).toFixed(1)}%`} over {budget.prompts} routed prompts
          </p>
        )}
      </div>
      <ErrorBanner error={error} onDismiss={() => setError(null)} />
      <div className="chat-grid">
        <aside className="panel">
          <button id="chat-new" onClick={() => setCurrent(null)}>
            New chat
          </button>
          <ul className="dataset-list" id="chat-conversations">
            {conversations.map((c) => (
              <li key={c.id}>
                <button className={c.id === current ? "dataset-item active" : "dataset-item"} onClick={() => setCurrent(c.id)}>
                  <span className="dataset-name">{c.title}</span>
                </button>
              </li>
            ))}
          </ul>
        </aside>
        <div className="panel chat-main">
          <div id="chat-messages">
            {messages.length === 0 && !live && (
              <p className="muted chat-empty next-step">
                Ask for code: each prompt goes to the cheapest tier that can answer it. A prompt that shows examples (asserts, <code>&gt;&gt;&gt;</code> doctests,{" "}
                <code>f(x) == y</code>, Input/Output) has each answer checked against them, climbing the tiers until one passes.
              </p>
            )}
            {messages.map((m) => {
              const route = m.route;
              return m.role === "user" ? (
                <div key={m.id} className="msg user">
                  {m.content}
                </div>
              ) : (
                <div
                  key={m.id}
                  className={m.verified === false ? "msg assistant failing" : "msg assistant"}
                  data-message={m.id}
                  data-verified={m.verified === null ? "none" : String(m.verified)}
                >
                  {route && <RouteLine d={route.decision} />}
                  {route?.verification && <AnswerChecks checks={route.verification.checks} />}
                  {route?.verification && <Cascade steps={route.verification.steps} />}
                  <Answer text={m.content} />
                  <Meta m={m} />
                  <div className="feedback" role="group" aria-label="Feedback">
                    {FEEDBACK.map(([f, label]) => (
                      <button key={f} className={m.feedback === f ? "fb chosen" : "fb"} aria-pressed={m.feedback === f} data-feedback={f} onClick={() => feedback(m, f)}>
                        {label}
                      </button>
                    ))}
                  </div>
                </div>
              );
            })}
            {live && (
              <>
                <div className="msg user">{live.prompt}</div>
                <div className="msg assistant" id="chat-live">
                  {live.decision ? <RouteLine d={live.decision} /> : <div className="muted small">classifying…</div>}
                  {live.checks && (
                    <div className="small live-checks" id="chat-live-checks">
                      {live.checks}
                    </div>
                  )}
                  {live.steps.length > 0 && <Cascade steps={live.steps} />}
                  <Answer text={live.text} />
                </div>
              </>
            )}
            <div ref={end} />
          </div>
          {current !== null && lastPrompt && (
            <div className="row small">
              Regenerate on
              {tiers.map((t) => (
                <button key={t} className="regen" disabled={live !== null} onClick={() => void send(lastPrompt, t, null)}>
                  {t}
                </button>
              ))}
              <span className="spacer" />
              <button onClick={() => void doExport("markdown")}>Export Markdown</button>
              <button onClick={() => void doExport("json")}>Export JSON</button>
            </div>
          )}
          {exported && (
            <details open id="chat-export">
              <summary>Export</summary>
              <textarea readOnly value={exported} rows={8} />
            </details>
          )}
          <div className="composer">
            {prompt.trim() !== "" && (
              <div id="chat-checks" className="checks-bar small">
                {checks.length > 0 || chosen !== null ? (
                  <details id="chat-checks-details">
                    <summary id="chat-checks-summary">
                      {summary}: each answer is run against {checks.length === 1 ? "it" : "them"}, climbing the tiers until one passes
                    </summary>
                    <CheckList items={checks} onChange={setChosen} idPrefix="chat-check" />
                    <div className="row">
                      <button id="chat-checks-new" onClick={() => setChosen([...checks, { kind: "user", source: "", code: "assert " }])}>
                        Add a check
                      </button>
                      {chosen !== null && (
                        <button id="chat-checks-reset" onClick={() => setChosen(null)}>
                          Use the prompt's own
                        </button>
                      )}
                    </div>
                  </details>
                ) : (
                  proposed === null && (
                    <div className="row" id="chat-checks-none">
                      <span className="muted">No checks in this prompt: its answer is routed, unverified.</span>
                      <span className="spacer" />
                      <select aria-label="Tier that proposes checks" id="chat-checks-tier" value={proposer} onChange={(e) => setProposer(e.target.value)}>
                        {tiers.map((t, i) => (
                          <option key={t} value={i === 0 ? "" : t}>
                            proposed by {t}
                          </option>
                        ))}
                      </select>
                      <button id="chat-checks-add" disabled={proposing} onClick={() => void propose()}>
                        {proposing ? "Proposing…" : "Add checks"}
                      </button>
                    </div>
                  )
                )}
                {proposed !== null && (
                  <div id="chat-checks-proposed">
                    <p className="muted">
                      {proposed.length === 0
                        ? "The tier proposed no usable checks. Write your own, or send without."
                        : "Proposed from the prompt alone (never from an answer): edit them, then accept the ones to verify with."}
                    </p>
                    <CheckList items={proposed} onChange={setProposed} idPrefix="chat-proposed" />
                    <div className="row">
                      <button id="chat-checks-accept" disabled={proposed.length === 0} onClick={() => (setChosen(proposed), setProposed(null))}>
                        Accept {proposed.length} check{proposed.length === 1 ? "" : "s"}
                      </button>
                      <button id="chat-checks-discard" onClick={() => setProposed(null)}>
                        Discard
                      </button>
                    </div>
                  </div>
                )}
              </div>
            )}
            <textarea
              aria-label="Message"
              id="chat-input"
              ref={input}
              rows={1}
              value={prompt}
              onChange={(e) => setPrompt(e.target.value)}
              onKeyDown={(e) => {
                // Enter sends; Shift+Enter starts a new line (for code and assert lines).
                if (e.key === "Enter" && !e.shiftKey) {
                  e.preventDefault();
                  sendPrompt();
                }
              }}
              placeholder="Ask for code (Shift+Enter for a new line)"
            />
            <div className="row composer-actions">
              <select aria-label="Tier" id="chat-tier" value={override} onChange={(e) => setOverride(e.target.value)}>
                <option value="">auto (routed)</option>
                {tiers.map((t) => (
                  <option key={t} value={t}>
                    {t}
                  </option>
                ))}
              </select>
              <select aria-label="Highest tier" id="chat-max-tier" value={cap} onChange={(e) => setCap(e.target.value)}>
                <option value="">up to any tier</option>
                {tiers.slice(0, -1).map((t) => (
                  <option key={t} value={t}>
                    never above {t}
                  </option>
                ))}
              </select>
              <span className="spacer" />
              <button id="chat-stop" onClick={() => void jobCancel("chat")} disabled={live === null}>
                Stop
              </button>
              <button id="chat-send" className="primary" onClick={sendPrompt} disabled={!prompt.trim() || live !== null}>
                Send
              </button>
            </div>
          </div>
        </div>
      </div>
    </section>
  );
}
