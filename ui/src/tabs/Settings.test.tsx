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
  it("starts on the given port with a key that never lands in the page or its storage", async () => {
    const calls: { cmd: string; args: Record<string, unknown> }[] = [];
    let running = false;
    mockIPC((cmd, args) => {
      calls.push({ cmd, args: (args ?? {}) as Record<string, unknown> });
      if (cmd === "app_info") return { version: "0.1.0", data_dir: "/d", database: "/d/db", logs: "/d/logs" };
      if (cmd === "route_policy_get") return { policy: "paper", tau: 0.5, map: null, cost_share: 0.1, min_pass: null };
      if (cmd === "dial_curve") return curve;
      if (cmd === "route_policy_set") return (args as { policy: unknown }).policy;
      if (cmd === "server_status") return { running, url: running ? "http://127.0.0.1:9999/v1" : null, auth: running };
      if (cmd === "server_start") {
        running = true;
        return { running, url: "http://127.0.0.1:9999/v1", auth: true };
      }
      if (cmd === "server_stop") {
        running = false;
        return { running, url: null, auth: false };
      }
      throw { code: "internal", message: `unexpected ${cmd}` };
    });
    render(<SettingsTab />);
    fireEvent.change(await screen.findByLabelText("Server port"), { target: { value: "9999" } });
    fireEvent.change(screen.getByLabelText("Server key"), { target: { value: "sk-local-secret-1234" } });
    fireEvent.click(screen.getByRole("button", { name: "Start server" }));
    await waitFor(() => expect(document.querySelector("#server-url")?.textContent).toContain("http://127.0.0.1:9999/v1"));
    expect(calls.find((c) => c.cmd === "server_start")?.args).toMatchObject({ port: 9999, api_key: "sk-local-secret-1234" });
    expect(document.body.innerHTML).not.toContain("sk-local-secret-1234");
    expect(JSON.stringify(localStorage)).not.toContain("sk-local-secret-1234");
    fireEvent.click(screen.getByRole("button", { name: "Stop server" }));
    await waitFor(() => expect(document.querySelector("#server-url")).toBeNull());
  });
});

describe("Settings: the routing policy", () => {
  it("saves the threshold policy with its τ", async () => {
    const calls: { cmd: string; args: Record<string, unknown> }[] = [];
    mockIPC((cmd, args) => {
      calls.push({ cmd, args: (args ?? {}) as Record<string, unknown> });
      if (cmd === "app_info") return { version: "0.1.0", data_dir: "/d", database: "/d/db", logs: "/d/logs" };
      if (cmd === "server_status") return { running: false, url: null, auth: false };
      if (cmd === "route_policy_get") return { policy: "paper", tau: 0.5, map: null, cost_share: 0.1, min_pass: null };
      if (cmd === "dial_curve") return curve;
      if (cmd === "route_policy_set") return (args as { policy: unknown }).policy;
      throw { code: "internal", message: `unexpected ${cmd}` };
    });
    render(<SettingsTab />);
    fireEvent.change(await screen.findByLabelText("Routing policy"), { target: { value: "threshold" } });
    fireEvent.change(screen.getByLabelText("Routing tau"), { target: { value: "0.7" } });
    fireEvent.click(screen.getByRole("button", { name: "Save" }));
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
      if (cmd === "server_status") return { running: false, url: null, auth: false };
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
    fireEvent.click(screen.getByRole("button", { name: "Save" }));
    await waitFor(() => expect(screen.getByText("saved")).toBeTruthy());
    expect(calls.find((c) => c.cmd === "route_policy_set")?.args.policy).toMatchObject({ policy: "dial", cost_share: 0.05, min_pass: null });
    fireEvent.change(screen.getByLabelText("Dial target"), { target: { value: "pass" } });
    fireEvent.change(screen.getByLabelText("Minimum pass rate"), { target: { value: "0.85" } });
    fireEvent.click(screen.getByRole("button", { name: "Save" }));
    await waitFor(() => expect(calls.filter((c) => c.cmd === "route_policy_set").length).toBe(2));
    expect(calls.filter((c) => c.cmd === "route_policy_set")[1].args.policy).toMatchObject({ policy: "dial", min_pass: 0.85 });
  });
});
