import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { afterEach, describe, expect, it } from "vitest";
import { DatasetsTab, formatBytes, percent } from "./Datasets";

const MBPP_SUMMARY = {
  name: "mbpp",
  format: "mbpp",
  source: "/data/mbpp.jsonl",
  tasks: 974,
  content_sha256: "x",
  imported_at: "2026-11-28T12:00:00Z",
};
const TASK2 = {
  dataset: "mbpp",
  task_id: "2",
  prompt: "Write a function to find the similar elements from the given two tuple lists.",
  reference: "def similar_elements(test_tup1, test_tup2):\r\n  return 1",
  setup: "",
  asserts: ["assert similar_elements((3, 4, 5, 6),(5, 7, 4, 10)) == (4, 5)", "assert a(1)", "assert b(2)"],
  challenge_asserts: [],
  entry_point: "similar_elements",
  signature: "similar_elements(test_tup1, test_tup2)",
  arity: 2,
};

afterEach(() => {
  cleanup();
  clearMocks();
});

/** A fake backend with state, so the tab's refresh-after-import is exercised, not assumed. */
function backend() {
  const calls: { cmd: string; args: unknown }[] = [];
  let datasets: (typeof MBPP_SUMMARY)[] = [];
  mockIPC((cmd, args) => {
    calls.push({ cmd, args });
    switch (cmd) {
      case "dataset_list":
        return datasets;
      case "dataset_catalog":
        return [{ name: "mbpp", title: "MBPP", url: "https://x/mbpp.jsonl", size: 563537, license: "CC BY 4.0" }];
      case "dataset_import": {
        const a = args as { path: string };
        if (a.path.endsWith("bad.jsonl")) throw { code: "dataset_malformed", message: "/tmp/bad.jsonl:2: tests is empty" };
        datasets = [MBPP_SUMMARY];
        return { name: "mbpp", format: "mbpp", tasks: 974, status: "created", content_sha256: "x" };
      }
      case "dataset_tasks":
        return { dataset: "mbpp", total: 974, offset: 0, tasks: [{ task_id: "2", prompt: TASK2.prompt, entry_point: "similar_elements", asserts: 3 }] };
      case "dataset_task":
        return TASK2;
      default:
        throw { code: "internal", message: `unexpected ${cmd}` };
    }
  });
  return calls;
}

describe("Datasets tab", () => {
  it("imports a file by path, lists it with its task count and opens a task with its asserts", async () => {
    const calls = backend();
    render(<DatasetsTab />);
    expect(await screen.findByText(/No datasets yet/)).toBeTruthy();
    fireEvent.change(screen.getByLabelText("Dataset file path"), { target: { value: "/data/mbpp.jsonl" } });
    fireEvent.click(screen.getByRole("button", { name: "Import" }));
    expect(await screen.findByText("974 tasks")).toBeTruthy();
    expect(calls.find((c) => c.cmd === "dataset_import")?.args).toMatchObject({ path: "/data/mbpp.jsonl", format: null });
    expect(screen.getByRole("status").textContent).toContain("Imported: mbpp (974 tasks");

    fireEvent.click(await screen.findByText(TASK2.prompt));
    await waitFor(() => expect(document.querySelectorAll("#task-asserts li").length).toBe(3));
    expect(document.querySelector("#task-signature")?.textContent).toBe("similar_elements(test_tup1, test_tup2)");
    expect(document.querySelector("#task-reference")?.textContent).not.toContain("\r");
  });

  it("shows an import error as its code and message and lists nothing", async () => {
    backend();
    render(<DatasetsTab />);
    fireEvent.change(screen.getByLabelText("Dataset file path"), { target: { value: "/tmp/bad.jsonl" } });
    fireEvent.click(screen.getByRole("button", { name: "Import" }));
    const alert = await screen.findByRole("alert");
    expect(alert.getAttribute("data-code")).toBe("dataset_malformed");
    expect(alert.textContent).toContain("/tmp/bad.jsonl:2: tests is empty");
    expect(screen.getByText(/No datasets yet/)).toBeTruthy();
  });

  it("offers the catalog download with its size", async () => {
    backend();
    render(<DatasetsTab />);
    expect(await screen.findByRole("button", { name: "Download MBPP" })).toBeTruthy();
    expect(screen.getByText(/550\.3 KiB/)).toBeTruthy();
  });
});

describe("progress helpers", () => {
  it("formats sizes and percentages", () => {
    expect(formatBytes(512)).toBe("512 B");
    expect(formatBytes(563537)).toBe("550.3 KiB");
    expect(percent(50, 200)).toBe(25);
    expect(percent(5, null)).toBeNull();
  });
});
