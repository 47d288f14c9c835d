import { describe, expect, it } from "vitest";
import { usd } from "./money";

describe("usd", () => {
  it("shows amounts with sensible precision, as the CLI does", () => {
    const cases: [number, string][] = [
      [0, "$0"],
      [0.00001, "< $0.0001"],
      [0.0001, "$0.0001"],
      [0.000123, "$0.00012"],
      [0.0164, "$0.016"],
      [0.25, "$0.25"],
      [0.1, "$0.10"],
      [1.234, "$1.23"],
      [12.5, "$12.50"],
      [-0.5, "-$0.50"],
    ];
    for (const [x, want] of cases) expect(usd(x)).toBe(want);
  });
});
