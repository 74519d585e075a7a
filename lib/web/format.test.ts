import { describe, expect, it } from "vitest";
import { formatMoney } from "./format";

describe("formatMoney", () => {
  it.each([
    [0, "$0.00"],
    [0.01, "$0.01"],
    [0.1, "$0.10"],
    [2.5, "$2.50"],
    [1234.567, "$1,234.57"],
    [1_000_000, "$1,000,000.00"],
  ])("shows cents from one cent up: %s → %s", (n, out) => expect(formatMoney(n)).toBe(out));

  it.each([
    [0.0003, "$0.0003"],
    [0.00042, "$0.00042"],
    [0.000021, "$0.000021"],
    [0.00012345, "$0.00012"],
    [0.009, "$0.009"],
    [0.00949, "$0.0095"],
    [0.000001, "$0.000001"],
    [0.0000015, "$0.0000015"],
  ])("shows an amount below one cent exactly, to two significant digits: %s → %s", (n, out) => expect(formatMoney(n)).toBe(out));

  it("never reads a positive amount as zero, and says when it is below what it shows", () => {
    expect(formatMoney(0.0000004)).toBe("< $0.000001");
    expect(formatMoney(1e-12)).toBe("< $0.000001");
  });

  it("rounds to cents only when the amount rounds to at least one cent", () => {
    expect(formatMoney(0.0099)).toBe("$0.01");
    expect(formatMoney(0.0095)).toBe("$0.01");
  });

  it("keeps the sign and refuses what is not a number", () => {
    expect(formatMoney(-0.0003)).toBe("-$0.0003");
    expect(formatMoney(-12.5)).toBe("-$12.50");
    expect(formatMoney(Number.NaN)).toBe("—");
    expect(formatMoney(Number.POSITIVE_INFINITY)).toBe("—");
  });
});
