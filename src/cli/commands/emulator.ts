/**
 * `sora-build emulator`: the API emulator as a standalone server, until Ctrl-C. Point any OpenAI client at
 * the printed base URL. `--speed X` runs its clock X times faster than real time (jobs, quota windows, expiry
 * and Retry-After values are all in that time); without it the clock comes from SORA_BUILD_CLOCK, so a test
 * can share one scaled clock between the CLI and the emulator.
 */
import { parseArgs } from 'node:util';
import type { Clock } from '../../core/clock.ts';
import { ScaledClock, clockFromSpec } from '../../core/clock.ts';
import type { EmulatorFaults } from '../../emulator/server.ts';
import { startEmulator } from '../../emulator/server.ts';
import type { CliContext } from '../context.ts';
import { ExitCode } from '../exit-codes.ts';

const HELP = `Usage: sora-build emulator [options]

Runs the OpenAI Videos API emulator (offline placeholder videos) until Ctrl-C.

Options:
  --host HOST                        interface to bind (default 127.0.0.1)
  --port N                           port (default 0: any free port)
  --speed X                          run the emulator clock X times faster than real time
  --render-seconds-per-second N      emulator seconds of rendering per second of video (default 6)
  --creates-per-minute N             create/remix/extend quota per sliding minute (default 2)
  --faults JSON                      initial faults, e.g. '{"jobFailureRate":0.2}'
  --seed N                           seed ids, faults and job outcomes
  --allow-remote                     allow a non-loopback --host
  -h, --help                         show this help

Accepts any non-empty API key, or only SORA_EMULATOR_API_KEY when that is set.
Control endpoint: GET/POST /__emulator/faults, GET/POST /__emulator/log (loopback only).

Example (in a project made by \`sora-build init\`):
  npx sora-build emulator --port 8080
`;

function positiveNumber(
  name: string,
  text: string | undefined,
  allowZero = false,
): number | string | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n < 0 || (!allowZero && n === 0)) {
    return `Expected --${name} to be a ${allowZero ? 'non-negative' : 'positive'} number, but got '${text}'.`;
  }
  return n;
}

export async function run(args: string[], ctx: CliContext): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        host: { type: 'string' },
        port: { type: 'string' },
        speed: { type: 'string' },
        'render-seconds-per-second': { type: 'string' },
        'creates-per-minute': { type: 'string' },
        faults: { type: 'string' },
        seed: { type: 'string' },
        'allow-remote': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: false,
    }));
  } catch (error) {
    ctx.stderr.write(`sora-build emulator: ${(error as Error).message}\n\n${HELP}`);
    return ExitCode.Usage;
  }
  if (values.help === true) {
    ctx.stdout.write(HELP);
    return ExitCode.Ok;
  }
  const problems: string[] = [];
  const number = (name: string, text: string | undefined, allowZero = false): number | undefined => {
    const r = positiveNumber(name, text, allowZero);
    if (typeof r === 'string') problems.push(r);
    return typeof r === 'number' ? r : undefined;
  };
  const port = number('port', values.port, true);
  if (port !== undefined && (!Number.isInteger(port) || port > 65535)) {
    problems.push(`Expected --port to be an integer from 0 to 65535, but got '${values.port}'.`);
  }
  const speed = number('speed', values.speed);
  const rsps = number('render-seconds-per-second', values['render-seconds-per-second'], true);
  const cpm = number('creates-per-minute', values['creates-per-minute']);
  const seed = number('seed', values.seed, true);
  let faults: Partial<EmulatorFaults> | undefined;
  if (values.faults !== undefined) {
    try {
      faults = JSON.parse(values.faults) as Partial<EmulatorFaults>;
    } catch {
      problems.push(`Expected --faults to be a JSON object, but got '${values.faults}'.`);
    }
  }
  let clock: Clock;
  try {
    clock = speed !== undefined ? new ScaledClock({ speed }) : clockFromSpec(ctx.env.SORA_BUILD_CLOCK);
  } catch (error) {
    problems.push((error as Error).message);
    clock = clockFromSpec(undefined);
  }
  if (problems.length > 0) {
    ctx.stderr.write(problems.map((p) => `sora-build emulator: ${p}\n`).join(''));
    return ExitCode.Usage;
  }
  const apiKey = ctx.env.SORA_EMULATOR_API_KEY;
  let handle;
  try {
    handle = await startEmulator({
      clock,
      ...(values.host !== undefined && { host: values.host }),
      ...(port !== undefined && { port }),
      ...(rsps !== undefined && { renderSecondsPerSecond: rsps }),
      ...(cpm !== undefined && { createsPerMinute: cpm }),
      ...(seed !== undefined && { seed }),
      ...(faults !== undefined && { faults }),
      ...(apiKey !== undefined && apiKey !== '' && { apiKeys: [apiKey] }),
      allowNonLoopback: values['allow-remote'] === true,
    });
  } catch (error) {
    ctx.stderr.write(`sora-build emulator: ${ctx.redact((error as Error).message)}\n`);
    return ExitCode.Usage;
  }
  ctx.stdout.write(
    `sora-build emulator listening on ${handle.url}\n` +
      `  OpenAI base URL: ${handle.url}/v1\n` +
      `  Azure base URL:  ${handle.url}/openai/v1\n` +
      `  Vertex (Veo):    ${handle.url} (@google/genai httpOptions.baseUrl)\n` +
      `  Runway:          ${handle.url} (@runwayml/sdk baseURL)\n` +
      `  fal queue:       ${handle.url}/fal/queue (for https://queue.fal.run), proxy ${handle.url}/fal/proxy\n` +
      `  Control:         ${handle.url}/__emulator/faults, ${handle.url}/__emulator/log\n` +
      (speed !== undefined ? `  Clock:           ${speed}x real time\n` : '') +
      `Videos are placeholders. Press Ctrl-C to stop.\n`,
  );
  if (!ctx.signal.aborted) {
    await new Promise<void>((resolve) =>
      ctx.signal.addEventListener('abort', () => resolve(), { once: true }),
    );
  }
  await handle.close();
  ctx.stdout.write('sora-build emulator stopped\n');
  return ExitCode.Ok;
}
