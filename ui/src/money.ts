// Amounts of money as people read them: `$1.23`, `$0.016`, `$0.0001`, `< $0.0001` — two significant digits below
// a dollar, never a wall of zeros. The same rules as the engine's `money::usd` (the CLI and exports).

export function usd(x: number): string {
  if (!Number.isFinite(x)) return "$?";
  if (x < 0) return `-${usd(-x)}`;
  if (x === 0) return "$0";
  if (x < 0.0001) return "< $0.0001";
  if (x >= 1) return `$${x.toFixed(2)}`;
  const decimals = Math.max(2, 1 - Math.floor(Math.log10(x)));
  let s = x.toFixed(decimals);
  while (s.endsWith("0") && s.length - s.indexOf(".") > 3) s = s.slice(0, -1);
  return `$${s}`;
}
