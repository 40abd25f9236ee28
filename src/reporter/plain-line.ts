/**
 * The stable one-line text of an event, shared by the `plain` and `github` reporters. CI logs are read by
 * people and grepped by scripts, so these strings change only on purpose (test/reporter/plain-reporter.test.ts
 * pins them). `null` means the event is not worth a line of its own (e.g. every progress poll).
 */
import type { BuildEvent, ShotFailedEvent } from '../core/events.ts';
import { unreachable } from '../core/unreachable.ts';
import type { BuildState, RowState } from './build-state.ts';
import {
  displayPath,
  formatBytes,
  formatCost,
  formatDuration,
  formatElapsed,
  plural,
  summaryLine,
} from './format.ts';

/**
 * @param event the event, already applied to `state`
 * @param before the shot's row state before the event (to print only transitions)
 */
export function plainLine(
  event: BuildEvent,
  state: BuildState,
  before: RowState | undefined,
  cwd: string,
): string | null {
  const tag = (shot: string): string => `[${shot}]`;
  switch (event.type) {
    case 'build-started': {
      const { fresh, cached, missing, stale, blocked } = event.counts;
      const generate = missing + stale + blocked;
      const parts = [
        missing > 0 ? `${missing} missing` : '',
        stale > 0 ? `${stale} stale` : '',
        blocked > 0 ? `${blocked} waiting for a parent` : '',
      ].filter((p) => p !== '');
      const repin = cached > 0 ? `, ${cached} cached` : '';
      const work =
        generate === 0
          ? `nothing to generate, ${fresh} fresh${repin}`
          : `${plural(generate, 'shot')} to generate (${parts.join(', ')}), ${fresh} fresh${repin}; estimated ${formatCost(event.estimatedCostUsd)}` +
            (event.estimatedWallMs === null ? '' : `, about ${formatDuration(event.estimatedWallMs)}`);
      return `sora-build: building ${displayPath(event.manifest, cwd)} with provider ${event.provider}: ${work}`;
    }
    case 'shot-planned':
      switch (event.state) {
        case 'fresh':
        case 'cached':
          // Said by the `shot-cached` event that follows.
          return null;
        case 'missing':
          return `${tag(event.shot)} missing`;
        case 'stale':
          return `${tag(event.shot)} stale: ${event.reasons.length > 0 ? event.reasons.join(', ') : 'key changed'}`;
        case 'blocked':
          return `${tag(event.shot)} waits for ${event.blockedBy ?? 'its parent'}`;
        default:
          return unreachable(event.state);
      }
    case 'shot-cached':
      return event.source === 'lockfile'
        ? `${tag(event.shot)} fresh`
        : `${tag(event.shot)} cached: re-pinned from the action cache`;
    case 'quota-wait': {
      const wait = event.until === null ? '' : `, ${formatDuration(event.until - event.time)}`;
      const reason = event.reason;
      switch (reason) {
        case 'per-minute-window':
          return `${tag(event.shot)} waiting for quota: per-minute window${wait}`;
        case 'max-in-flight':
          return `${tag(event.shot)} waiting for quota: max in flight${wait}`;
        case 'rate-limited':
          return `${tag(event.shot)} waiting for quota: rate limited (429)${wait}`;
        case 'another-process':
          return `${tag(event.shot)} waiting for another sora-build process making the same shot`;
        default:
          return unreachable(reason);
      }
    }
    case 'create-sent':
      return null;
    case 'job-submitted': {
      const n = state.row(event.shot)?.jobNumber;
      const of = n === null || n === undefined ? '' : ` (${n}/${Math.max(n, state.jobsPlanned)})`;
      return `${tag(event.shot)} submitted ${event.videoId}${of}`;
    }
    case 'job-progress':
      return event.status === 'in_progress' && before !== 'rendering' ? `${tag(event.shot)} rendering` : null;
    case 'job-completed':
      return `${tag(event.shot)} completed ${event.videoId}`;
    case 'download-started':
      return null;
    case 'download-finished':
      return event.variant === 'video'
        ? null
        : `${tag(event.shot)} downloaded ${event.variant} (${formatBytes(event.bytes)})`;
    case 'asset-derived':
      return `${tag(event.shot)} made ${event.variant} from the stored video (${formatBytes(event.bytes)}): ${event.because}`;
    case 'shot-built': {
      const row = state.row(event.shot);
      const took =
        row?.startedAt === null || row === undefined
          ? ''
          : ` in ${formatElapsed(event.time - row.startedAt)}`;
      return `${tag(event.shot)} built ${displayPath(event.output, cwd)} (${formatBytes(event.bytes)}, ${formatCost(event.costUsd)})${took}`;
    }
    case 'shot-failed':
      return `${tag(event.shot)} ${failureText(event)}`;
    case 'shot-blocked':
      return `${tag(event.shot)} blocked: ${event.blockedBy} failed`;
    case 'resumed':
      return `${tag(event.shot)} resumed ${event.videoId} from the journal`;
    case 'reconciled':
      return event.matched && event.videoId !== null
        ? `${tag(event.shot)} reconciled: found ${event.videoId} through List, not creating it again`
        : `${tag(event.shot)} reconciled: no remote job matches the journal's intent, creating it`;
    case 'retry':
      return `${event.shot === null ? 'sora-build:' : tag(event.shot)} retrying ${event.operation} in ${formatDuration(event.delayMs)} (attempt ${event.attempt}): ${event.reason}: ${event.message}`;
    case 'interrupted':
      return `sora-build: ${interruptedText(event.inFlight, event.resume)}`;
    case 'build-finished':
      return `sora-build: ${summaryLine(event)} in ${formatElapsed(event.wallMs)}`;
    case 'diagnostic':
      return `${displayPath(event.file, cwd)}:${event.line}:${event.col}: ${event.severity}: ${event.message}`;
    default:
      return unreachable(event);
  }
}

/** `failed: moderation_blocked: <message>` plus an indented hint: the provider's words, unabridged. */
export function failureText(event: ShotFailedEvent): string {
  const message = event.message.split('\n').join('\n  ');
  const hint = event.hint === null ? '' : `\n  hint: ${event.hint}`;
  return `failed: ${event.code ?? event.reason}: ${message}${hint}`;
}

/** How to pick up an interrupted build. */
export function interruptedText(inFlight: number, resume: string): string {
  return inFlight === 0
    ? `interrupted. Run \`${resume}\` to continue.`
    : `interrupted; ${plural(inFlight, 'job')} in flight ${inFlight === 1 ? 'is' : 'are'} kept in the journal. Run \`${resume}\` again to resume ${inFlight === 1 ? 'it' : 'them'} without paying twice.`;
}
