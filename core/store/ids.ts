// Run ids that sort by creation time: 10 characters of milliseconds since the epoch and 16 of
// randomness, in Crockford's base32 (the ULID layout), strictly increasing within one process.
import { randomBytes } from "node:crypto";

const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
let lastTime = -1;
let lastRandom: number[] = [];

export function newRunId(now = Date.now()): string {
  let random: number[];
  if (now <= lastTime) {
    // Same millisecond (or a clock step back): keep the time, increment the random part.
    random = increment(lastRandom);
    now = lastTime;
  } else random = [...randomBytes(16)].map((b) => b & 31);
  lastTime = now;
  lastRandom = random;
  let time = "";
  for (let i = 0, t = now; i < 10; i++, t = Math.floor(t / 32)) time = ALPHABET[t % 32] + time;
  return time + random.map((d) => ALPHABET[d]).join("");
}

function increment(digits: number[]): number[] {
  const out = [...digits];
  for (let i = out.length - 1; i >= 0; i--) {
    if (out[i]! < 31) {
      out[i]!++;
      return out;
    }
    out[i] = 0;
  }
  return out;
}
