/**
 * Azure's Sora 1 "video generation jobs" API (azure-sora1-contract.md), under `/openai/v1/video/generations/…`.
 */
import type { EmulatorState, RouteResult } from './emulator-state.ts';
import type { VideosRequest } from './openai-routes.ts';

export function routeSora1(_state: EmulatorState, _req: VideosRequest): Promise<RouteResult | undefined> {
  return Promise.resolve(undefined);
}
