import { describe, expect, it } from "vitest";
import { toAppError } from "./errors";

describe("toAppError", () => {
  it("keeps the code and message of an app error", () => {
    expect(toAppError({ code: "dataset_malformed", message: "a.jsonl:3: invalid JSON" })).toEqual({
      code: "dataset_malformed",
      message: "a.jsonl:3: invalid JSON",
    });
  });
  it("turns plain strings and exceptions into internal errors", () => {
    expect(toAppError("boom")).toEqual({ code: "internal", message: "boom" });
    expect(toAppError(new Error("bad"))).toEqual({ code: "internal", message: "bad" });
  });
});
