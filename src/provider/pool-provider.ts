/**
 * `type: pool`: several providers of one model (two Azure regions, two deployments) used as one, so a build
 * gets the sum of their quotas (issue 15 item 3).
 *
 * - **Creates go where quota is free**: the member with room in its own sliding minute of creates and under
 *   its own `max_in_flight`, the least loaded first (ties: the order of `members:`). The engine's lanes for
 *   the pool hold the members' summed quota, so the pool is asked for a create only when some member has room.
 * - **A remix or extension goes where its parent lives**: the parent's remote video exists on one member only.
 * - **Every id names its member**: the pool hands out `member:id` (`east:video_…`), which the journal and the
 *   lockfile keep, so a poll, a download or a child's create after a crash or in a later build goes to the
 *   member that has the job, without asking the others. Member names cannot contain `:` (the config's name
 *   pattern), so the first `:` splits.
 *
 * No retry here (the engine's one retry layer decides): a member's 429 is the pool's 429. The per-member
 * windows are this process's own view; two processes sharing a member rely on its 429s, as for one provider.
 */
import type { Clock } from '../core/clock.ts';
import type { VideoId } from '../core/brand.ts';
import { asVideoId } from '../core/brand.ts';
import type { ProviderFamily } from '../config/capabilities.ts';
import type { QuotaConfig } from '../config/types.ts';
import type {
  ContentVariant,
  CreateRequest,
  Download,
  ListOptions,
  RemoteVideo,
  VideoProvider,
} from './types.ts';
import { ProviderError } from './types.ts';

export interface PoolMember {
  /** Its config name (`providers.<name>`). */
  readonly name: string;
  readonly quota: QuotaConfig;
  /** Opens the member's adapter (called at most once, on first use). */
  readonly open: () => Promise<VideoProvider>;
}

export interface PoolProviderOptions {
  /** The pool's config name. */
  readonly name: string;
  readonly family: ProviderFamily;
  /** In `members:` order (at least one). */
  readonly members: readonly PoolMember[];
  /** The sliding minute of each member's creates runs on it. */
  readonly clock: Clock;
}

const MINUTE_MS = 60_000;

interface MemberState {
  readonly member: PoolMember;
  opened: Promise<VideoProvider> | undefined;
  /** Clock times of this process's creates on the member within the last minute. */
  creates: number[];
  /** Jobs on the member last seen queued or rendering. */
  readonly inFlight: Set<string>;
}

export class PoolProvider implements VideoProvider {
  readonly name: string;
  readonly family: ProviderFamily;
  readonly #members: readonly MemberState[];
  readonly #byName: ReadonlyMap<string, MemberState>;
  readonly #clock: Clock;

  constructor(options: PoolProviderOptions) {
    if (options.members.length === 0) throw new TypeError(`pool ${options.name} has no members`);
    this.name = options.name;
    this.family = options.family;
    this.#clock = options.clock;
    this.#members = options.members.map((member) => ({
      member,
      opened: undefined,
      creates: [],
      inFlight: new Set<string>(),
    }));
    this.#byName = new Map(this.#members.map((m) => [m.member.name, m]));
  }

  /** The member a job id names, and the member's own id. */
  split(id: string): { member: string; id: string } {
    const at = id.indexOf(':');
    const member = at < 0 ? undefined : this.#byName.get(id.slice(0, at));
    if (member === undefined) {
      throw new ProviderError({
        kind: 'not-found',
        message: `${this.name}: the job ${id} names no member of the pool (${[...this.#byName.keys()].join(', ')})`,
        delivered: 'no',
      });
    }
    return { member: member.member.name, id: id.slice(at + 1) };
  }

  create(request: CreateRequest, signal?: AbortSignal): Promise<RemoteVideo> {
    return this.#create(this.#choose(), (p) => p.create(request, signal));
  }

  remix(parent: VideoId, prompt: string, signal?: AbortSignal): Promise<RemoteVideo> {
    const { member, id } = this.split(parent);
    return this.#create(this.#byName.get(member)!, (p) => p.remix(asVideoId(id), prompt, signal));
  }

  extend(parent: VideoId, prompt: string, seconds: number, signal?: AbortSignal): Promise<RemoteVideo> {
    const { member, id } = this.split(parent);
    return this.#create(this.#byName.get(member)!, (p) => p.extend(asVideoId(id), prompt, seconds, signal));
  }

  async retrieve(id: VideoId, signal?: AbortSignal): Promise<RemoteVideo> {
    const m = this.#memberOf(id);
    const video = await (await this.#open(m)).retrieve(asVideoId(this.split(id).id), signal);
    return this.#seen(m, video);
  }

  async *list(options?: ListOptions, signal?: AbortSignal): AsyncIterable<RemoteVideo> {
    for (const m of this.#members) {
      for await (const video of (await this.#open(m)).list(options, signal)) yield this.#named(m, video);
    }
  }

  async delete(id: VideoId, signal?: AbortSignal): Promise<void> {
    const m = this.#memberOf(id);
    await (await this.#open(m)).delete(asVideoId(this.split(id).id), signal);
  }

  async download(id: VideoId, variant: ContentVariant, signal?: AbortSignal): Promise<Download> {
    const m = this.#memberOf(id);
    return (await this.#open(m)).download(asVideoId(this.split(id).id), variant, signal);
  }

  async close(): Promise<void> {
    await Promise.all(this.#members.map(async (m) => (await m.opened?.catch(() => undefined))?.close()));
  }

  /** Jobs this process has seen in flight on each member, for tests and the bench. */
  load(): ReadonlyMap<string, number> {
    return new Map(this.#members.map((m) => [m.member.name, m.inFlight.size]));
  }

  /**
   * The member for a new create: one with room in its minute and under its `max_in_flight`, the least loaded
   * (in flight relative to its limit, then creates in its minute), ties in `members:` order. When none has
   * room (another process used it), the one whose minute frees first: its 429 then paces the pool.
   */
  #choose(): MemberState {
    const now = this.#clock.now();
    for (const m of this.#members) m.creates = m.creates.filter((t) => now - t < MINUTE_MS);
    const room = (m: MemberState): boolean =>
      m.creates.length < m.member.quota.createsPerMinute && m.inFlight.size < m.member.quota.maxInFlight;
    const load = (m: MemberState): number => m.inFlight.size / m.member.quota.maxInFlight;
    const open = this.#members.filter(room);
    if (open.length > 0) {
      return open.reduce((best, m) =>
        load(m) < load(best) || (load(m) === load(best) && m.creates.length < best.creates.length) ? m : best,
      );
    }
    const frees = (m: MemberState): number => m.creates[0] ?? now;
    return this.#members.reduce((best, m) => (frees(m) < frees(best) ? m : best));
  }

  async #create(
    m: MemberState,
    call: (provider: VideoProvider) => Promise<RemoteVideo>,
  ): Promise<RemoteVideo> {
    // Counted before the request, so creates started together spread over the members.
    const at = this.#clock.now();
    m.creates.push(at);
    try {
      return this.#seen(m, await call(await this.#open(m)));
    } catch (error) {
      // A create that provably never reached the member used none of its quota.
      if (error instanceof ProviderError && error.delivered === 'no') {
        const i = m.creates.indexOf(at);
        if (i >= 0) m.creates.splice(i, 1);
      }
      throw error;
    }
  }

  #open(m: MemberState): Promise<VideoProvider> {
    m.opened ??= m.member.open();
    return m.opened;
  }

  #memberOf(id: string): MemberState {
    return this.#byName.get(this.split(id).member)!;
  }

  /** Tracks the job's state on its member and names the member in its ids. */
  #seen(m: MemberState, video: RemoteVideo): RemoteVideo {
    if (video.status === 'queued' || video.status === 'in_progress') m.inFlight.add(video.id);
    else m.inFlight.delete(video.id);
    return this.#named(m, video);
  }

  #named(m: MemberState, video: RemoteVideo): RemoteVideo {
    const name = m.member.name;
    return {
      ...video,
      id: asVideoId(`${name}:${video.id}`),
      remixedFrom: video.remixedFrom === null ? null : asVideoId(`${name}:${video.remixedFrom}`),
    };
  }
}
