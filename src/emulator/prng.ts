/**
 * A small seeded pseudo-random generator (mulberry32). The emulator draws every random decision (ids, faults,
 * job outcomes, per-video colours) from seeded streams, so a test that fixes `seed` sees the same run every time.
 */
export interface Prng {
  /** A float in [0, 1). */
  next(): number;
  /** `true` with probability `rate` (0 never draws, so turning a fault off does not shift other draws). */
  chance(rate: number): boolean;
  /** `n` random lowercase hex digits. */
  hex(n: number): string;
}

export function createPrng(seed: number): Prng {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    chance: (rate) => rate > 0 && next() < rate,
    hex: (n) => {
      let out = '';
      while (out.length < n)
        out += Math.floor(next() * 0x100000000)
          .toString(16)
          .padStart(8, '0');
      return out.slice(0, n);
    },
  };
}

/** A 32-bit seed from a string (FNV-1a), e.g. a video id, so a video's look follows from its id alone. */
export function seedFromString(text: string, salt = 0): number {
  let h = (0x811c9dc5 ^ salt) >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}
