import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { afterEach, describe, expect, it } from "vitest";
import { SettingsTab } from "./Settings";

afterEach(() => {
  cleanup();
  clearMocks();
});

describe("Settings: the local server", () => {
  it("starts on the given port with a key that never lands in the page or its storage", async () => {
    const calls: { cmd: string; args: Record<string, unknown> }[] = [];
    let running = false;
    mockIPC((cmd, args) => {
      calls.push({ cmd, args: (args ?? {}) as Record<string, unknown> });
      if (cmd === "app_info") return { version: "0.1.0", data_dir: "/d", database: "/d/db", logs: "/d/logs" };
      if (cmd === "route_policy_get") return { policy: "paper", tau: 0.5, map: null };
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
      if (cmd === "route_policy_get") return { policy: "paper", tau: 0.5, map: null };
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
