/**
 * A shot against its model's capability table (src/config/capabilities.ts): pure, no positions. Each problem
 * names the manifest field it is about; the analyzer turns that into a positioned diagnostic (the field's own
 * value, or the `defaults:` entry it came from).
 */
import type { CapabilityRule, FrameAt, ModelCapabilities } from '../config/capabilities.ts';
import { describeSeconds, secondsAllowed } from '../config/capabilities.ts';
import type { FramePosition } from '../provider/job-api.ts';

/** What a shot asks for, as far as capabilities go. `undefined`: not set (or already reported as broken). */
export interface ShotFacts {
  readonly model: string;
  /** The provider type, for messages. */
  readonly providerType: string;
  readonly size: string | undefined;
  /** The shot's own clip length (an extension: the seconds added); `undefined` for a remix. */
  readonly seconds: number | undefined;
  readonly relation: 'remix_of' | 'extend_of' | undefined;
  /** Every frame, `input_reference` first when written (it is a first frame). */
  readonly frames: readonly FrameFact[];
  readonly inputVideo: { readonly crop: boolean; readonly durationSeconds: number | undefined } | undefined;
  readonly referenceImages: number;
  readonly variants: number | undefined;
  readonly negativePrompt: boolean;
  readonly seed: boolean;
  readonly audio: boolean | undefined;
}

export interface FrameFact {
  readonly at: FramePosition;
  readonly crop: boolean;
  /** `input_reference` (the short form of a first frame) rather than an item of `frames:`. */
  readonly shortForm: boolean;
}

/** The field a problem is about; `index` picks an item of a list field, `part` a key inside it. */
export interface CapabilityProblem {
  readonly field:
    | 'size'
    | 'seconds'
    | 'frames'
    | 'input_reference'
    | 'input_video'
    | 'reference_images'
    | 'variants'
    | 'negative_prompt'
    | 'seed'
    | 'audio';
  readonly index?: number;
  readonly part?: 'at' | 'crop';
  readonly message: string;
}

export function frameKind(at: FramePosition): FrameAt {
  return typeof at === 'number' ? 'index' : at;
}

/** Every way the shot exceeds what its model takes, in field order. */
export function checkCapabilities(caps: ModelCapabilities, facts: ShotFacts): CapabilityProblem[] {
  const problems: CapabilityProblem[] = [];
  const on = `model ${facts.model} on provider type ${facts.providerType}`;
  const child = facts.relation !== undefined;

  // A remix or an extension inherits its size (and a remix its seconds); its own relation is checked by the caller.
  if (!child && facts.size !== undefined && !caps.sizes.includes(facts.size)) {
    problems.push({
      field: 'size',
      message: `Expected \`size\` to be one of ${caps.sizes.join(', ')} for model ${facts.model}, but found ${facts.size}`,
    });
  }
  const sizeOk = child || (facts.size !== undefined && caps.sizes.includes(facts.size));
  let secondsOk = true;
  if (
    facts.relation !== 'remix_of' &&
    facts.seconds !== undefined &&
    !secondsAllowed(caps.seconds, facts.seconds)
  ) {
    secondsOk = false;
    problems.push({
      field: 'seconds',
      message: `Expected \`seconds\`${facts.relation === 'extend_of' ? ' (the seconds added)' : ''} to be ${describeSeconds(caps.seconds)} for model ${facts.model}, but found ${facts.seconds}`,
    });
  }

  // Conditional rules: checked only once the plain limits hold (one mistake, one message).
  if (sizeOk && secondsOk) {
    for (const rule of caps.rules) {
      if (!ruleApplies(rule, facts)) continue;
      const req = rule.require;
      if (
        req.seconds !== undefined &&
        facts.relation !== 'remix_of' &&
        facts.seconds !== undefined &&
        !secondsAllowed(req.seconds, facts.seconds)
      ) {
        problems.push({
          field: 'seconds',
          message: `Expected \`seconds\` to be ${describeSeconds(req.seconds)} for model ${facts.model} ${rule.why}, but found ${facts.seconds}`,
        });
      }
    }
  }

  // Frames (`input_reference` is a first frame).
  for (const frame of facts.frames) {
    const kind = frameKind(frame.at);
    if ((caps.frames === null || !caps.frames.positions.includes(kind)) && frame.shortForm) {
      problems.push({
        field: 'input_reference',
        message: `Expected no \`input_reference\`: ${on} takes none, but found one`,
      });
    }
  }
  return problems;
}

function ruleApplies(rule: CapabilityRule, facts: ShotFacts): boolean {
  const w = rule.when;
  if (w.sizes !== undefined && (facts.size === undefined || !w.sizes.includes(facts.size))) return false;
  if (w.referenceImages === true && facts.referenceImages === 0) return false;
  if (w.inputVideo === true && facts.inputVideo === undefined) return false;
  if (w.extend === true && facts.relation !== 'extend_of') return false;
  if (w.framesAt !== undefined && !facts.frames.some((f) => w.framesAt!.includes(frameKind(f.at))))
    return false;
  return true;
}
