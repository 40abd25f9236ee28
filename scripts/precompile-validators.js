// Run by `npm run prepare` after tsc: writes the config schema's Ajv validator as standalone code next to
// the compiled loader, so a command does not import Ajv and compile the schema at every start (about 0.1 s).
// It is CommonJS (dist/config/config-validator.cjs) because Ajv's generated code `require`s its runtime
// helpers. dist/config/parse-config.js falls back to compiling when the file is absent (running from the
// TypeScript sources).
import { writeFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import standaloneCode from 'ajv/dist/standalone/index.js';
import { CONFIG_AJV_OPTIONS, configJsonSchema } from '../dist/config/config-schema.js';

const ajv = new Ajv({ ...CONFIG_AJV_OPTIONS, code: { source: true } });
const validate = ajv.compile(configJsonSchema());
writeFileSync(
  new URL('../dist/config/config-validator.cjs', import.meta.url),
  standaloneCode.default(ajv, validate),
);
