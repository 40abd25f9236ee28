import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import type { Location } from '../../src/core/diagnostic.ts';
import {
  BUILD_EVENT_TYPES,
  SHOT_FAILURE_REASONS,
  SHOT_PLAN_STATES,
  diagnosticEvent,
} from '../../src/core/events.ts';
import type { BuildEvent } from '../../src/core/events.ts';
import { ONE_OF_EACH, interruptedBuild, invalidManifest, scriptedBuild } from './fixtures.ts';

interface Branch {
  title: string;
  required: string[];
  properties: Record<string, { const?: string; enum?: string[] }>;
}
const schema = JSON.parse(
  readFileSync(new URL('../../schemas/events.schema.json', import.meta.url), 'utf8'),
) as { oneOf: Branch[] };
const validate = new Ajv({ strict: true, allErrors: true }).compile(schema);
const branch = (type: string): Branch => {
  const found = schema.oneOf.find((b) => b.properties['type']?.const === type);
  if (found === undefined) throw new Error(`no schema branch for ${type}`);
  return found;
};

describe('schemas/events.schema.json', () => {
  it('has exactly one branch per event type of the BuildEvent union', () => {
    const inSchema = schema.oneOf.map((b) => b.properties['type']?.const).sort();
    expect(inSchema).toEqual([...BUILD_EVENT_TYPES].sort());
    expect(new Set(inSchema).size).toBe(inSchema.length);
  });

  it('names every field of each event, all required (absent values are null, never missing)', () => {
    for (const type of BUILD_EVENT_TYPES) {
      const sample = ONE_OF_EACH[type];
      const b = branch(type);
      expect([...b.required].sort(), type).toEqual(Object.keys(sample).sort());
      expect(Object.keys(b.properties).sort(), type).toEqual(Object.keys(sample).sort());
    }
  });

  it('keeps its enums in step with the code', () => {
    expect(branch('shot-planned').properties['state']?.enum).toEqual(SHOT_PLAN_STATES);
    expect(branch('shot-failed').properties['reason']?.enum).toEqual(SHOT_FAILURE_REASONS);
  });

  it('accepts every event of the scripted builds, after a JSON round trip', () => {
    for (const event of [...scriptedBuild(), ...interruptedBuild(), ...invalidManifest()]) {
      const line = JSON.parse(JSON.stringify(event)) as unknown;
      expect(line).toEqual(event);
      expect(validate(line) ? null : validate.errors, event.type).toBeNull();
    }
  });

  it('rejects an unknown type, an extra field, a missing field and a bad enum value', () => {
    const built = ONE_OF_EACH['shot-built'];
    const failed = ONE_OF_EACH['shot-failed'];
    const { costUsd: _dropped, ...withoutCost } = built;
    for (const bad of [
      { ...built, type: 'shot-done' },
      { ...built, apiKey: 'sk-not-a-field' },
      withoutCost,
      { ...failed, reason: 'moderation_blocked' },
      { ...built, digest: 'ABC' },
      { ...built, time: '2026-01-01' },
    ]) {
      expect(validate(bad), JSON.stringify(bad)).toBe(false);
    }
  });
});

describe('diagnosticEvent', () => {
  it('flattens a Diagnostic to file, 1-based line and column, severity and message', () => {
    const contents = 'version: 1\nshots:\n  harbor:\n    seconds: 10\n';
    const location: Location = {
      file: { path: '/proj/storyboard.yaml', contents },
      range: { offset: contents.indexOf('10'), length: 2 },
    };
    const event: BuildEvent = diagnosticEvent(
      { severity: 'error', message: 'Expected `seconds` to be one of 4, 8, 12, but was 10.', location },
      42,
    );
    expect(event).toEqual({
      type: 'diagnostic',
      time: 42,
      file: '/proj/storyboard.yaml',
      line: 4,
      col: 14,
      severity: 'error',
      message: 'Expected `seconds` to be one of 4, 8, 12, but was 10.',
    });
    expect(validate(event)).toBe(true);
  });
});
