/**
 * A shot against its model's capability table (src/config/capabilities.ts): pure, no positions. Each problem
 * names the manifest field it is about; the analyzer turns that into a positioned diagnostic (the field's own
 * value, or the `defaults:` entry it came from).
 */
import type { CapabilityRule, FrameAt, ModelCapabilities } from '../config/capabilities.ts';
import { describeSeconds, maxVariants, secondsAllowed } from '../config/capabilities.ts';
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
  readonly inputVideo:
    | {
        readonly at: number;
        readonly crop: boolean;
        /** `undefined` until the file is read (or when it could not be). */
        readonly durationSeconds: number | undefined;
      }
    | undefined;
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
  const frames = caps.frames;
  for (const [index, frame] of facts.frames.entries()) {
    const kind = frameKind(frame.at);
    const field = frame.shortForm ? 'input_reference' : 'frames';
    if (frames === null) {
      // Said once for the whole list.
      if (frame.shortForm)
        problems.push({ field, message: `Expected no \`input_reference\`: ${on} takes none, but found one` });
      else if (index === facts.frames.findIndex((f) => !f.shortForm))
        problems.push({
          field,
          message: `Expected no \`frames\`: ${on} takes no images at frame positions, but found ${count(facts.frames.filter((f) => !f.shortForm).length, 'frame')}`,
        });
      continue;
    }
    if (!frames.positions.includes(kind)) {
      problems.push(
        frame.shortForm
          ? { field, message: `Expected no \`input_reference\`: ${on} takes no first frame, but found one` }
          : {
              field,
              index,
              part: 'at',
              message: `Expected \`at\` to be ${describePositions(frames.positions)} for model ${facts.model}, but found ${String(frame.at)}`,
            },
      );
    } else if (kind === 'index' && frames.fps !== null && facts.seconds !== undefined) {
      const last = facts.seconds * frames.fps - 1;
      if ((frame.at as number) > last) {
        problems.push({
          field: 'frames',
          index,
          part: 'at',
          message: `Expected \`at\` to be a frame index from 0 to ${last} (the last frame of ${facts.seconds} s at ${frames.fps} fps), but found ${String(frame.at)}`,
        });
      }
    }
    if (frame.crop && !frames.crop) {
      problems.push({
        field: 'frames',
        index,
        part: 'crop',
        message: `Expected no \`crop\`: ${on} takes none (crop the image itself, or use \`fit\`)`,
      });
    }
  }
  if (frames !== null && facts.frames.length > frames.max) {
    problems.push({
      field: 'frames',
      message: `Expected at most ${count(frames.max, 'image')} at frame positions for model ${facts.model}${facts.frames.some((f) => f.shortForm) ? ' (counting `input_reference`)' : ''}, but found ${facts.frames.length}`,
    });
  }
  if (
    frames?.lastNeedsFirst === true &&
    facts.frames.some((f) => f.at === 'last') &&
    !facts.frames.some((f) => f.at === 'first' || f.at === 0)
  ) {
    problems.push({
      field: 'frames',
      message: `Expected a first frame with the last one: model ${facts.model} does not take a last frame alone`,
    });
  }

  // Input video.
  const video = facts.inputVideo;
  if (video !== undefined) {
    if (caps.inputVideo === null) {
      problems.push({
        field: 'input_video',
        message: `Expected no \`input_video\`: ${on} takes none, but found one`,
      });
    } else {
      if (video.crop && !caps.inputVideo.crop) {
        problems.push({
          field: 'input_video',
          part: 'crop',
          message: `Expected no \`crop\`: ${on} takes none for an input video`,
        });
      }
      if (video.durationSeconds !== undefined && video.durationSeconds > caps.inputVideo.maxSeconds) {
        problems.push({
          field: 'input_video',
          message: `Expected an input video of at most ${caps.inputVideo.maxSeconds} s for model ${facts.model}, but it lasts ${formatSeconds(video.durationSeconds)} s`,
        });
      }
      const fps = caps.frames?.fps ?? null;
      if (fps !== null && facts.seconds !== undefined && video.at > facts.seconds * fps - 1) {
        problems.push({
          field: 'input_video',
          part: 'at',
          message: `Expected \`at\` to be a frame index from 0 to ${facts.seconds * fps - 1} (the last frame of ${facts.seconds} s at ${fps} fps), but found ${video.at}`,
        });
      }
    }
  }

  // Reference images.
  if (facts.referenceImages > caps.referenceImages) {
    problems.push({
      field: 'reference_images',
      message:
        caps.referenceImages === 0
          ? `Expected no \`reference_images\`: ${on} takes none, but found ${facts.referenceImages}`
          : `Expected at most ${count(caps.referenceImages, 'reference image')} for model ${facts.model}, but found ${facts.referenceImages}`,
    });
  }

  // Variants: the per-size limit only once the size itself is fine.
  if (facts.variants !== undefined && facts.variants > 1) {
    const limit = sizeOk && facts.size !== undefined ? maxVariants(caps, facts.size) : caps.variants.max;
    if (facts.variants > limit) {
      const atSize = limit < caps.variants.max && facts.size !== undefined ? ` at ${facts.size}` : '';
      problems.push({
        field: 'variants',
        message:
          limit === 1
            ? `Expected \`variants\` to be 1 for model ${facts.model}${atSize} (it makes one video per request), but found ${facts.variants}`
            : `Expected \`variants\` to be at most ${limit} for model ${facts.model}${atSize}, but found ${facts.variants}`,
      });
    }
  }
  if (facts.negativePrompt && !caps.negativePrompt) {
    problems.push({ field: 'negative_prompt', message: `Expected no \`negative_prompt\`: ${on} takes none` });
  }
  if (facts.seed && !caps.seed) {
    problems.push({ field: 'seed', message: `Expected no \`seed\`: ${on} takes none` });
  }
  if (facts.audio !== undefined) {
    if (caps.audio === 'always' && !facts.audio) {
      problems.push({
        field: 'audio',
        message: `Expected \`audio\` to be true or unset: ${on} always makes a sound track`,
      });
    } else if (caps.audio === 'never' && facts.audio) {
      problems.push({
        field: 'audio',
        message: `Expected \`audio\` to be false or unset: ${on} makes no sound`,
      });
    }
  }

  // Conditional requirements other than seconds (seconds are checked above with the plain limits).
  for (const rule of caps.rules) {
    if (!ruleApplies(rule, facts)) continue;
    const req = rule.require;
    if (req.noFrames === true && facts.frames.length > 0) {
      const short = facts.frames.every((f) => f.shortForm);
      problems.push({
        field: short ? 'input_reference' : 'frames',
        message: `Expected no \`${short ? 'input_reference' : 'frames'}\` for model ${facts.model} ${rule.why}`,
      });
    }
    if (req.noInputVideo === true && facts.inputVideo !== undefined) {
      problems.push({
        field: 'input_video',
        message: `Expected no \`input_video\` for model ${facts.model} ${rule.why}`,
      });
    }
    if (req.noReferenceImages === true && facts.referenceImages > 0) {
      problems.push({
        field: 'reference_images',
        message: `Expected no \`reference_images\` for model ${facts.model} ${rule.why}`,
      });
    }
  }
  return problems;
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

function describePositions(positions: readonly FrameAt[]): string {
  const words = positions.map((p) => (p === 'index' ? 'a frame index' : p));
  return words.length === 1 ? words[0]! : `${words.slice(0, -1).join(', ')} or ${words.at(-1)!}`;
}

function formatSeconds(seconds: number): string {
  return String(Math.round(seconds * 100) / 100);
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
