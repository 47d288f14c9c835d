import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { afterEach, describe, expect, it } from "vitest";
import { SettingsTab } from "./Settings";

afterEach(() => {
  cleanup();
  clearMocks();
});

const curve = { points: [[0.01, 0.47], [0.05, 0.68], [0.1, 0.8], [1, 0.9]], operating: [0.1, 0.8], lambda: 0.25, held_out: 687, user: 3 };

describe("Settings: the local server", () => {
  it("starts with a key made for this start, shows it with a copy button and the editors' snippets, never storing it", async () => {
    const calls: { cmd: string; args: Record<string, unknown> }[] = [];
    const KEY = "cn-local-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd";
    let running = false;
    mockIPC((cmd, args) => {
      calls.push({ cmd, args: (args ?? {}) as Record<string, unknown> });
      if (cmd === "app_info") return { version: "0.1.0", data_dir: "/d", database: "/d/db", logs: "/d/logs" };
      if (cmd === "route_policy_get") return { policy: "paper", tau: 0.5, map: null, cost_share: 0.1, min_pass: null };
      if (cmd === "dial_curve") return curve;
      if (cmd === "server_settings_get") return { allowed_origins: [], allowed_hosts: [], daily_cap: null, pass_through: false };
      if (cmd === "server_settings_set") return (args as { settings: unknown }).settings;
      if (cmd === "server_status") return { running, url: running ? "http://127.0.0.1:9999/v1" : null, key: running ? KEY : null };
      if (cmd === "server_start") {
        running = true;
        const noKey = (args as { no_key: boolean }).no_key;
        return { running, url: "http://127.0.0.1:9999/v1", key: noKey ? null : KEY };
      }
      if (cmd === "server_stop") {
        running = false;
        return { running, url: null, key: null };
      }
      throw { code: "internal", message: `unexpected ${cmd}` };
    });
    render(<SettingsTab />);
    await waitFor(() => expect((screen.getByRole("button", { name: "Start server" }) as HTMLButtonElement).disabled).toBe(false));
    // A port out of range is said plainly, and nothing starts.
    fireEvent.change(screen.getByLabelText("Server port"), { target: { value: "87310" } });
    fireEvent.click(screen.getByRole("button", { name: "Start server" }));
    await waitFor(() => expect(document.body.textContent).toContain("the port must be a whole number from 0 to 65535"));
    expect(calls.some((c) => c.cmd === "server_start")).toBe(false);
    fireEvent.change(screen.getByLabelText("Server port"), { target: { value: "9999" } });
    expect((document.querySelector("#server-no-key") as HTMLInputElement).checked).toBe(false);
    fireEvent.click(screen.getByRole("button", { name: "Start server" }));
    await waitFor(() => expect(document.querySelector("#server-key-value")?.textContent).toBe(KEY));
    expect(calls.find((c) => c.cmd === "server_start")?.args).toMatchObject({ port: 9999, no_key: false });
    expect(document.querySelector("#server-snippet-continue")?.textContent).toContain(`apiKey: ${KEY}`);
    expect(document.querySelector("#server-snippet-claude")?.textContent).toContain("ANTHROPIC_BASE_URL=http://127.0.0.1:9999\n");
    expect(document.querySelector("#server-snippet-codex")?.textContent).toContain('wire_api = "responses"');
    expect(document.querySelector("#server-snippet-python")?.textContent).toContain('base_url="http://127.0.0.1:9999/v1"');
    expect(JSON.stringify(localStorage)).not.toContain(KEY);
    expect(JSON.stringify(sessionStorage)).not.toContain(KEY);
    fireEvent.click(screen.getByRole("button", { name: "Stop server" }));
    await waitFor(() => expect(document.querySelector("#server-url")).toBeNull());
    // "No key" is an explicit, labelled choice.
    expect(screen.getByText(/any\s+program on this computer can use your tiers/)).toBeTruthy();
    fireEvent.click(document.querySelector("#server-no-key")!);
    fireEvent.click(screen.getByRole("button", { name: "Start server" }));
    await waitFor(() => expect(document.querySelector("#server-url")?.textContent).toContain("no key (your choice)"));
    expect(calls.filter((c) => c.cmd === "server_start")[1].args).toMatchObject({ no_key: true });
    expect(document.querySelector("#server-key-value")).toBeNull();
    // Allowed origins and hosts, the daily cap.
    fireEvent.change(screen.getByLabelText("Allowed origins"), { target: { value: "https://app.example\n" } });
    fireEvent.change(screen.getByLabelText("Daily spend cap"), { target: { value: "1.5" } });
    fireEvent.click(document.querySelector("#server-gate-save")!);
    await waitFor(() => expect(calls.some((c) => c.cmd === "server_settings_set")).toBe(true));
    expect(calls.find((c) => c.cmd === "server_settings_set")?.args.settings).toEqual({ allowed_origins: ["https://app.example"], allowed_hosts: [], daily_cap: 1.5, pass_through: false });
  });
});

describe("Settings: the routing policy", () => {
  it("saves the threshold policy with its τ", async () => {
    const calls: { cmd: string; args: Record<string, unknown> }[] = [];
    mockIPC((cmd, args) => {
      calls.push({ cmd, args: (args ?? {}) as Record<string, unknown> });
      if (cmd === "app_info") return { version: "0.1.0", data_dir: "/d", database: "/d/db", logs: "/d/logs" };
      if (cmd === "server_status") return { running: false, url: null, key: null };
      if (cmd === "server_settings_get") return { allowed_origins: [], allowed_hosts: [], daily_cap: null, pass_through: false };
      if (cmd === "route_policy_get") return { policy: "paper", tau: 0.5, map: null, cost_share: 0.1, min_pass: null };
      if (cmd === "dial_curve") return curve;
      if (cmd === "route_policy_set") return (args as { policy: unknown }).policy;
      throw { code: "internal", message: `unexpected ${cmd}` };
    });
    render(<SettingsTab />);
    fireEvent.change(await screen.findByLabelText("Routing policy"), { target: { value: "threshold" } });
    fireEvent.change(screen.getByLabelText("Routing tau"), { target: { value: "0.7" } });
    fireEvent.click(document.querySelector("#route-save")!);
    await waitFor(() => expect(screen.getByText("saved")).toBeTruthy());
    expect(calls.find((c) => c.cmd === "route_policy_set")?.args.policy).toMatchObject({ policy: "threshold", tau: 0.7, map: null });
  });
});

describe("Settings: the cost dial", () => {
  it("saves a cost share and draws the dial's curve with its operating point", async () => {
    const calls: { cmd: string; args: Record<string, unknown> }[] = [];
    mockIPC((cmd, args) => {
      calls.push({ cmd, args: (args ?? {}) as Record<string, unknown> });
      if (cmd === "app_info") return { version: "0.1.0", data_dir: "/d", database: "/d/db", logs: "/d/logs" };
      if (cmd === "server_status") return { running: false, url: null, key: null };
      if (cmd === "server_settings_get") return { allowed_origins: [], allowed_hosts: [], daily_cap: null, pass_through: false };
      if (cmd === "route_policy_get") return { policy: "dial", tau: 0.5, map: null, cost_share: 0.1, min_pass: null };
      if (cmd === "route_policy_set") return (args as { policy: unknown }).policy;
      if (cmd === "dial_curve") return curve;
      throw { code: "internal", message: `unexpected ${cmd}` };
    });
    render(<SettingsTab />);
    await waitFor(() => expect(document.querySelector("#dial-plot polyline.dial-curve")).toBeTruthy());
    expect(document.querySelector("#dial-operating")).toBeTruthy();
    expect(document.querySelector("#dial-operating-text")?.textContent).toContain("687 held-out prompts and 3 of yours");
    fireEvent.change(screen.getByLabelText("Cost share"), { target: { value: "0.05" } });
    fireEvent.click(document.querySelector("#route-save")!);
    await waitFor(() => expect(screen.getByText("saved")).toBeTruthy());
    expect(calls.find((c) => c.cmd === "route_policy_set")?.args.policy).toMatchObject({ policy: "dial", cost_share: 0.05, min_pass: null });
    fireEvent.change(screen.getByLabelText("Dial target"), { target: { value: "pass" } });
    fireEvent.change(screen.getByLabelText("Minimum pass rate"), { target: { value: "0.85" } });
    fireEvent.click(document.querySelector("#route-save")!);
    await waitFor(() => expect(calls.filter((c) => c.cmd === "route_policy_set").length).toBe(2));
    expect(calls.filter((c) => c.cmd === "route_policy_set")[1].args.policy).toMatchObject({ policy: "dial", min_pass: 0.85 });
  });
});
