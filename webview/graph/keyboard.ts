// Moving between nodes with the arrow keys, over the layered drawing: up and down within a
// column, left and right to the nearest node of the next column that way. Pure: positions in,
// a step id out.
export type Direction = "up" | "down" | "left" | "right";

export const ARROWS: Readonly<Record<string, Direction>> = {
  ArrowUp: "up",
  ArrowDown: "down",
  ArrowLeft: "left",
  ArrowRight: "right",
};

type Point = { readonly x: number; readonly y: number };

/** The node an arrow key moves to from `id`, or null at the drawing's edge. */
export function neighbour(
  at: ReadonlyMap<string, Point>,
  id: string,
  direction: Direction,
): string | null {
  const from = at.get(id);
  if (!from) return null;
  const vertical = direction === "up" || direction === "down";
  const sign = direction === "down" || direction === "right" ? 1 : -1;
  let best: string | null = null;
  let bestKey: [number, number] = [Infinity, Infinity];
  for (const [other, p] of at) {
    if (other === id) continue;
    // Along the direction: how far (must be ahead); across it: how far off the line.
    const along = vertical ? (p.y - from.y) * sign : (p.x - from.x) * sign;
    const across = vertical ? Math.abs(p.x - from.x) : Math.abs(p.y - from.y);
    if (along <= 0 || (vertical && across > 0)) continue;
    // Left and right: the nearest column first, then the row closest to this one.
    const key: [number, number] = vertical ? [along, 0] : [along, across];
    if (key[0] < bestKey[0] || (key[0] === bestKey[0] && key[1] < bestKey[1])) {
      best = other;
      bestKey = key;
    }
  }
  return best;
}
