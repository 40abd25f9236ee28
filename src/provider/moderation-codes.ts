// Kept apart from map-provider-error.ts, which imports the openai SDK: the engine needs only this list, and a
// build with nothing to generate should not load the SDK at all.

/**
 * Error codes meaning "moderation refused this": OpenAI's `moderation_blocked` (input) and `content_filter`
 * (output), Azure's `content_policy_violation` / `ResponsibleAIPolicyViolation`, and Sora 1's
 * `input_moderation` / `output_moderation` failure reasons, and `completed_without_video`: a gateway's
 * "completed" job whose video is not there (openai-video-state.ts), which the spec normalises to safety.
 */
const MODERATION_CODES = new Set([
  'moderation_blocked',
  'content_filter',
  'content_policy_violation',
  'responsibleaipolicyviolation',
  'input_moderation',
  'output_moderation',
  'completed_without_video',
]);

export function isModerationCode(code: string | null | undefined): boolean {
  return code !== null && code !== undefined && MODERATION_CODES.has(code.toLowerCase());
}
