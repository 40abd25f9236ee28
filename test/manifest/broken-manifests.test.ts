/**
 * Every mistake in examples/broken/ (and examples/broken/configs/), with the exact output `validate`
 * prints for it: `file:line:col: severity: message`, the source line and the underline.
 */
import { describe, expect, it } from 'vitest';
import { check } from './helpers.ts';

interface Case {
  readonly title: string;
  readonly file: string;
  readonly configPath?: string;
  readonly provider?: string;
  /** Whether loading succeeds (only warnings). */
  readonly ok: boolean;
  /** The output, line by line. */
  readonly expected: readonly string[];
}

/** `DIRECTOR` is set, `BRAND_NAME` and `CITY` are not. */
const ENV = { DIRECTOR: 'Ada' };

const CASES: readonly Case[] = [
  {
    title: 'YAML syntax: an unclosed flow list',
    file: 'examples/broken/yaml-syntax.yaml',
    ok: false,
    expected: [
      'examples/broken/yaml-syntax.yaml:6:3: error: Invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]',
      '  mug:',
      '  ~',
    ],
  },
  {
    title: 'YAML syntax: a colon inside a plain prompt',
    file: 'examples/broken/yaml-colon.yaml',
    ok: false,
    expected: [
      'examples/broken/yaml-colon.yaml:4:13: error: Invalid YAML: Nested mappings are not allowed in compact mappings (if this is text containing `: `, put the text in quotes)',
      '    prompt: Title card: a misty harbor at dawn.',
      '            ~',
    ],
  },
  {
    title: 'wrong types: number prompt, list seconds, text assets',
    file: 'examples/broken/wrong-types.yaml',
    ok: false,
    expected: [
      'examples/broken/wrong-types.yaml:4:13: error: Expected `prompt` to be text, but found 42',
      '    prompt: 42',
      '            ~~',
      'examples/broken/wrong-types.yaml:5:14: error: Expected `seconds` to be a whole number or text, but found a list',
      '    seconds: [8]',
      '             ~~~',
      'examples/broken/wrong-types.yaml:6:13: error: Expected `assets` to be a list, but found "thumbnail"',
      '    assets: thumbnail',
      '            ~~~~~~~~~',
    ],
  },
  {
    title: 'unknown shot fields, with did-you-mean (a misspelt prompt is not also "missing")',
    file: 'examples/broken/unknown-field.yaml',
    ok: false,
    expected: [
      'examples/broken/unknown-field.yaml:4:5: error: Expected a field of shot `harbor` (prompt, model, size, seconds, input_reference, fit, remix_of, extend_of, output, assets, provider, frames, input_video, reference_images, variants, negative_prompt, seed, audio), but found `promt`; did you mean `prompt`?',
      '    promt: A misty harbor at dawn.',
      '    ~~~~~',
      'examples/broken/unknown-field.yaml:5:5: error: Expected a field of shot `harbor` (prompt, model, size, seconds, input_reference, fit, remix_of, extend_of, output, assets, provider, frames, input_video, reference_images, variants, negative_prompt, seed, audio), but found `secnods`; did you mean `seconds`?',
      '    secnods: 8',
      '    ~~~~~~~',
      'examples/broken/unknown-field.yaml:6:5: error: Expected a field of shot `harbor` (prompt, model, size, seconds, input_reference, fit, remix_of, extend_of, output, assets, provider, frames, input_video, reference_images, variants, negative_prompt, seed, audio), but found `colour`',
      '    colour: teal',
      '    ~~~~~~',
    ],
  },
  {
    title: 'unknown top-level field with did-you-mean',
    file: 'examples/broken/unknown-top-level.yaml',
    ok: false,
    expected: [
      'examples/broken/unknown-top-level.yaml:2:1: error: Expected a field of the manifest (version, defaults, vars, shots), but found `default`; did you mean `defaults`?',
      'default:',
      '~~~~~~~',
    ],
  },
  {
    title: 'size not allowed for sora-2 (but allowed for sora-2-pro)',
    file: 'examples/broken/size-for-model.yaml',
    ok: false,
    expected: [
      'examples/broken/size-for-model.yaml:5:11: error: Expected `size` to be one of 720x1280, 1280x720 for model sora-2, but found 1024x1792',
      '    size: 1024x1792',
      '          ~~~~~~~~~',
      'examples/broken/size-for-model.yaml:12:11: error: Expected `size` to be one of 720x1280, 1280x720 for model sora-2, but found 1024x1024',
      '    size: 1024x1024',
      '          ~~~~~~~~~',
    ],
  },
  {
    title: 'seconds not allowed for the model, and seconds that are not a number',
    file: 'examples/broken/seconds-for-model.yaml',
    ok: false,
    expected: [
      'examples/broken/seconds-for-model.yaml:5:14: error: Expected `seconds` to be one of 4, 8, 12 for model sora-2, but found 10',
      '    seconds: 10',
      '             ~~',
      'examples/broken/seconds-for-model.yaml:11:14: error: Expected `seconds` to be a whole number of seconds like 8 or "8", but found "eight"',
      '    seconds: eight',
      '             ~~~~~',
    ],
  },
  {
    title: 'a default size bad for some shots is reported once at the default, naming the shots',
    file: 'examples/broken/defaults-for-model.yaml',
    ok: false,
    expected: [
      'examples/broken/defaults-for-model.yaml:3:9: error: Expected `size` to be one of 720x1280, 1280x720 for model sora-2, but found 1792x1024 (the default for shots `a`, `b`, `c` and 1 more)',
      '  size: 1792x1024',
      '        ~~~~~~~~~',
    ],
  },
  {
    title: 'unknown ${var} at its exact column, with did-you-mean',
    file: 'examples/broken/unknown-var.yaml',
    ok: false,
    expected: [
      'examples/broken/unknown-var.yaml:7:35: error: Expected `${prodcut}` to name a variable under `vars:` (product, look), but there is none by that name; did you mean `${product}`?',
      '    prompt: "Slow dolly-in on the ${prodcut}, ${look}, then ${colour}."',
      '                                  ~~~~~~~~~~',
      'examples/broken/unknown-var.yaml:7:61: error: Expected `${colour}` to name a variable under `vars:` (product, look), but there is none by that name',
      '    prompt: "Slow dolly-in on the ${prodcut}, ${look}, then ${colour}."',
      '                                                            ~~~~~~~~~',
    ],
  },
  {
    title: 'unset ${env:NAME} in a folded block scalar, at its exact column',
    file: 'examples/broken/unset-env.yaml',
    ok: false,
    expected: [
      'examples/broken/unset-env.yaml:5:26: error: Expected the environment variable BRAND_NAME to be set (for `${env:BRAND_NAME}`), but it is not set',
      '      A product shot for ${env:BRAND_NAME},',
      '                         ~~~~~~~~~~~~~~~~~',
      'examples/broken/unset-env.yaml:6:34: error: Expected the environment variable CITY to be set (for `${env:CITY}`), but it is not set',
      '      shot by ${env:DIRECTOR} in ${env:CITY}.',
      '                                 ~~~~~~~~~~~',
    ],
  },
  {
    title: 'unclosed ${ and a space inside ${ }',
    file: 'examples/broken/unterminated-var.yaml',
    ok: false,
    expected: [
      'examples/broken/unterminated-var.yaml:6:20: error: Expected `}` to close `${look`, but found ","',
      '    prompt: A mug, ${look, and $${literal} text with ${ look }.',
      '                   ~~~~~~',
      'examples/broken/unterminated-var.yaml:6:54: error: Expected a variable name or env:NAME right after `${`, but found " " (write `$${` for a literal `${`)',
      '    prompt: A mug, ${look, and $${literal} text with ${ look }.',
      '                                                     ~~',
    ],
  },
  {
    title: 'reference image missing',
    file: 'examples/broken/missing-ref.yaml',
    ok: false,
    expected: [
      'examples/broken/missing-ref.yaml:7:22: error: Expected a reference image at "refs/mug.png", but there is no such file',
      '    input_reference: refs/mug.png',
      '                     ~~~~~~~~~~~~',
    ],
  },
  {
    title: 'reference image outside the project',
    file: 'examples/broken/outside-ref.yaml',
    ok: false,
    expected: [
      'examples/broken/outside-ref.yaml:5:22: error: Expected the reference image to be inside the project (the folder of sora.config.yaml), but "../launch/refs/mug.png" is outside it',
      '    input_reference: ../launch/refs/mug.png',
      '                     ~~~~~~~~~~~~~~~~~~~~~~',
    ],
  },
  {
    title: 'reference image that is text named .png, and a folder',
    file: 'examples/broken/text-as-png.yaml',
    ok: false,
    expected: [
      'examples/broken/text-as-png.yaml:5:22: error: Expected "refs/notes.png" to be a JPEG, PNG or WebP image, but it is text starting with "hello, t"',
      '    input_reference: refs/notes.png',
      '                     ~~~~~~~~~~~~~~',
      'examples/broken/text-as-png.yaml:9:22: error: Expected a reference image file at "refs", but it is a folder',
      '    input_reference: refs',
      '                     ~~~~',
    ],
  },
  {
    title: 'reference image of the wrong size (a JPEG named .png is fine when its size fits)',
    file: 'examples/broken/wrong-size-ref.yaml',
    ok: false,
    expected: [
      'examples/broken/wrong-size-ref.yaml:13:22: error: Expected the reference image "refs/small-640x480.png" to be 1280x720 like the shot, but it is 640x480 (PNG); set `fit: cover` or `fit: contain` to resize it',
      '    input_reference: refs/small-640x480.png',
      '                     ~~~~~~~~~~~~~~~~~~~~~~',
      'examples/broken/wrong-size-ref.yaml:17:22: error: Expected the reference image "refs/really-a-jpeg.png" to be 720x1280 like the shot, but it is 1280x720 (JPEG); set `fit: cover` or `fit: contain` to resize it',
      '    input_reference: refs/really-a-jpeg.png',
      '                     ~~~~~~~~~~~~~~~~~~~~~~',
    ],
  },
  {
    title: 'fit that is not an enum value; fit without a reference image warns',
    file: 'examples/broken/bad-fit.yaml',
    ok: false,
    expected: [
      'examples/broken/bad-fit.yaml:6:10: error: Expected `fit` to be one of none, cover, contain, but found "cove"; did you mean cover?',
      '    fit: cove',
      '         ~~~~',
      'examples/broken/bad-fit.yaml:9:5: warning: Expected `fit` only with an `input_reference` to resize, but this shot has none; `fit` has no effect',
      '    fit: cover',
      '    ~~~',
    ],
  },
  {
    title: 'unknown remix_of / extend_of parents (no follow-on errors about the extension seconds)',
    file: 'examples/broken/unknown-parent.yaml',
    ok: false,
    expected: [
      'examples/broken/unknown-parent.yaml:7:15: error: Expected `remix_of` to name a shot of this manifest, but there is no shot `mugg`; did you mean `mug`?',
      '    remix_of: mugg',
      '              ~~~~',
      'examples/broken/unknown-parent.yaml:10:16: error: Expected `extend_of` to name a shot of this manifest, but there is no shot `teaser`',
      '    extend_of: teaser',
      '               ~~~~~~',
    ],
  },
  {
    title: 'a remix that sets size, seconds, input_reference and fit',
    file: 'examples/broken/remix-sets-fields.yaml',
    ok: false,
    expected: [
      'examples/broken/remix-sets-fields.yaml:8:5: error: Expected a remix to set only its prompt (it inherits model, size and seconds from `mug`), but found `size`',
      '    size: 720x1280',
      '    ~~~~',
      'examples/broken/remix-sets-fields.yaml:9:5: error: Expected a remix to set only its prompt (it inherits model, size and seconds from `mug`), but found `seconds`',
      '    seconds: 4',
      '    ~~~~~~~',
      'examples/broken/remix-sets-fields.yaml:13:5: error: Expected a remix to set only its prompt (it inherits model, size and seconds from `mug-teal`), but found `input_reference`',
      '    input_reference: refs/frame-1280x720.png',
      '    ~~~~~~~~~~~~~~~',
      'examples/broken/remix-sets-fields.yaml:14:5: error: Expected a remix to set only its prompt (it inherits model, size and seconds from `mug-teal`), but found `fit`',
      '    fit: cover',
      '    ~~~',
    ],
  },
  {
    title: 'extend rules: no model, seconds are the added seconds, not both remix_of and extend_of',
    file: 'examples/broken/extend-rules.yaml',
    ok: false,
    expected: [
      'examples/broken/extend-rules.yaml:12:5: error: Expected an extension to set only its prompt and seconds (it inherits model and size from `harbor`), but found `model`',
      '    model: sora-2-pro',
      '    ~~~~~',
      'examples/broken/extend-rules.yaml:17:14: error: Expected `seconds` (the seconds added) to be one of 4, 8, 12 for model sora-2, but found 6',
      '    seconds: 6',
      '             ~',
      'examples/broken/extend-rules.yaml:20:5: error: Expected at most one of `remix_of` and `extend_of`, but found both',
      '    extend_of: harbor',
      '    ~~~~~~~~~',
    ],
  },
  {
    title: 'outputs: escaping out_dir, absolute, not .mp4, backslashes, a folder',
    file: 'examples/broken/outputs.yaml',
    ok: false,
    expected: [
      'examples/broken/outputs.yaml:5:13: error: Expected `output` to stay inside out_dir, but "../../elsewhere/escape.mp4" leads out of it',
      '    output: ../../elsewhere/escape.mp4',
      '            ~~~~~~~~~~~~~~~~~~~~~~~~~~',
      'examples/broken/outputs.yaml:8:13: error: Expected `output` to be a path relative to out_dir, but found the absolute path "/tmp/absolute.mp4"',
      '    output: /tmp/absolute.mp4',
      '            ~~~~~~~~~~~~~~~~~',
      'examples/broken/outputs.yaml:11:13: error: Expected `output` to be an .mp4 file name, but found "teaser.mov"',
      '    output: teaser.mov',
      '            ~~~~~~~~~~',
      'examples/broken/outputs.yaml:14:13: error: Expected `output` to use `/` between folders, but found "social\\\\teaser.mp4"',
      '    output: social\\teaser.mp4',
      '            ~~~~~~~~~~~~~~~~~',
      'examples/broken/outputs.yaml:17:13: error: Expected `output` to name a file, but "social/" is a folder',
      '    output: social/',
      '            ~~~~~~~',
    ],
  },
  {
    title: 'two shots writing one file (also case-insensitively, also a default output)',
    file: 'examples/broken/output-collisions.yaml',
    ok: false,
    expected: [
      'examples/broken/output-collisions.yaml:8:13: error: Expected each shot to write its own file, but `teaser-2` and `teaser` both write social/teaser.mp4',
      '    output: social/./teaser.mp4',
      '            ~~~~~~~~~~~~~~~~~~~',
      'examples/broken/output-collisions.yaml:5:13: note: `teaser` writes social/teaser.mp4 here',
      '    output: social/teaser.mp4',
      '            ~~~~~~~~~~~~~~~~~',
      'examples/broken/output-collisions.yaml:11:13: error: Expected each shot to write its own file, but `teaser-3` writes Social/Teaser.mp4 and `teaser` writes social/teaser.mp4, the same file on a case-insensitive disk',
      '    output: Social/Teaser.mp4',
      '            ~~~~~~~~~~~~~~~~~',
      'examples/broken/output-collisions.yaml:5:13: note: `teaser` writes social/teaser.mp4 here',
      '    output: social/teaser.mp4',
      '            ~~~~~~~~~~~~~~~~~',
      'examples/broken/output-collisions.yaml:16:13: error: Expected each shot to write its own file, but `not-harbor` and `harbor` (its default output) both write harbor.mp4',
      '    output: harbor.mp4',
      '            ~~~~~~~~~~',
      'examples/broken/output-collisions.yaml:12:3: note: `harbor` writes harbor.mp4 here',
      '  harbor:',
      '  ~~~~~~',
    ],
  },
  {
    title: 'duplicate keys name both places',
    file: 'examples/broken/duplicate-keys.yaml',
    ok: false,
    expected: [
      'examples/broken/duplicate-keys.yaml:8:3: error: Expected each key once in a mapping, but `mug` appears twice (first at line 3)',
      '  mug:',
      '  ~~~',
      'examples/broken/duplicate-keys.yaml:3:3: note: `mug` is first defined here',
      '  mug:',
      '  ~~~',
      'examples/broken/duplicate-keys.yaml:11:5: error: Expected each key once in a mapping, but `seconds` appears twice (first at line 10)',
      '    seconds: 12',
      '    ~~~~~~~',
      'examples/broken/duplicate-keys.yaml:10:5: note: `seconds` is first defined here',
      '    seconds: 8',
      '    ~~~~~~~',
    ],
  },
  {
    title: 'bad shot ids',
    file: 'examples/broken/bad-shot-id.yaml',
    ok: false,
    expected: [
      'examples/broken/bad-shot-id.yaml:3:3: error: Expected a shot id to be lowercase letters, digits, `.`, `_` and `-`, starting with a letter or digit, but found "Mug Shot"',
      '  Mug Shot:',
      '  ~~~~~~~~',
      'examples/broken/bad-shot-id.yaml:5:3: error: Expected a shot id to be lowercase letters, digits, `.`, `_` and `-`, starting with a letter or digit, but found "-mug"',
      '  -mug:',
      '  ~~~~',
    ],
  },
  {
    title: 'empty prompts, also after interpolation',
    file: 'examples/broken/empty-prompt.yaml',
    ok: false,
    expected: [
      'examples/broken/empty-prompt.yaml:6:13: error: Expected `prompt` to describe the shot, but it is empty',
      '    prompt: ""',
      '            ~~',
      'examples/broken/empty-prompt.yaml:8:13: error: Expected `prompt` to describe the shot, but it is empty',
      '    prompt: "   "',
      '            ~~~~~',
      'examples/broken/empty-prompt.yaml:10:13: error: Expected `prompt` to describe the shot, but it is empty after interpolation ("${nothing}")',
      '    prompt: "${nothing}"',
      '            ~~~~~~~~~~~~',
    ],
  },
  {
    title: 'version missing',
    file: 'examples/broken/version-missing.yaml',
    ok: false,
    expected: [
      'examples/broken/version-missing.yaml:1:1: error: Expected the manifest to have `version`, but it is missing',
      'shots:',
      '~',
    ],
  },
  {
    title: 'version wrong',
    file: 'examples/broken/version-wrong.yaml',
    ok: false,
    expected: [
      'examples/broken/version-wrong.yaml:1:10: error: Expected `version` to be 1, but found 2',
      'version: 2',
      '         ~',
    ],
  },
  {
    title: 'prompt missing, and a shot that is not a mapping',
    file: 'examples/broken/missing-prompt.yaml',
    ok: false,
    expected: [
      'examples/broken/missing-prompt.yaml:3:3: error: Expected shot `harbor` to have `prompt`, but it is missing',
      '  harbor:',
      '  ~~~~~~',
      'examples/broken/missing-prompt.yaml:5:3: error: Expected shot `empty` to be a mapping, but found nothing',
      '  empty:',
      '  ~~~~~',
    ],
  },
  {
    title: 'assets: unknown value with did-you-mean, duplicates',
    file: 'examples/broken/bad-assets.yaml',
    ok: false,
    expected: [
      'examples/broken/bad-assets.yaml:5:21: error: Expected each item of `assets` to be one of video, thumbnail, spritesheet, but found "thumbnails"; did you mean thumbnail?',
      '    assets: [video, thumbnails]',
      '                    ~~~~~~~~~~',
      'examples/broken/bad-assets.yaml:8:13: error: Expected `assets` to list each item once, but "thumbnail" appears twice',
      '    assets: [thumbnail, thumbnail]',
      '            ~~~~~~~~~~~~~~~~~~~~~~',
    ],
  },
  {
    title: 'bad vars: a list value, a bad name',
    file: 'examples/broken/bad-vars.yaml',
    ok: false,
    expected: [
      'examples/broken/bad-vars.yaml:4:9: error: Expected variable `list` to be text or a number, but found a list',
      '  list: [a, b]',
      '        ~~~~~~',
      'examples/broken/bad-vars.yaml:5:3: error: Expected a variable name to be letters, digits, `_` and `-`, starting with a letter or `_`, but found "bad name"',
      '  bad name: x',
      '  ~~~~~~~~',
    ],
  },
  {
    title: 'an alias naming no anchor',
    file: 'examples/broken/unknown-alias.yaml',
    ok: false,
    expected: [
      'examples/broken/unknown-alias.yaml:6:13: error: Expected `*intr` to refer to an anchor `&intr` defined before it, but there is none',
      '    prompt: *intr',
      '            ~~~~~',
    ],
  },
  {
    title: 'an alias bomb is refused, not expanded',
    file: 'examples/broken/alias-bomb.yaml',
    ok: false,
    expected: [
      'examples/broken/alias-bomb.yaml:1:1: error: Invalid YAML: Excessive alias count indicates a resource exhaustion attack',
      '# An alias bomb: each list repeats the one before ten times (10^5 items). Refused, not expanded.',
      '~',
    ],
  },
  {
    title: 'a manifest that is a list',
    file: 'examples/broken/not-a-mapping.yaml',
    ok: false,
    expected: [
      'examples/broken/not-a-mapping.yaml:1:1: error: Expected the manifest to be a mapping, but found a list',
      '- version: 1',
      '~~~~~~~~~~~~',
    ],
  },
  {
    title: 'an empty manifest',
    file: 'examples/broken/empty.yaml',
    ok: false,
    expected: [
      'examples/broken/empty.yaml:1:1: error: Expected the manifest to be a mapping, but found nothing',
    ],
  },
  {
    title: 'a manifest that does not exist',
    file: 'examples/broken/nothing-here.yaml',
    ok: false,
    expected: [
      '<command line>:1:1: error: Expected a manifest at examples/broken/nothing-here.yaml, but there is no such file',
      'examples/broken/nothing-here.yaml',
      '~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~',
    ],
  },
  {
    title: 'several problems at once, in file order',
    file: 'examples/broken/many-problems.yaml',
    ok: false,
    expected: [
      'examples/broken/many-problems.yaml:10:36: error: Expected `${lok}` to name a variable under `vars:` (look), but there is none by that name; did you mean `${look}`?',
      '    prompt: Wide shot of a harbor, ${lok}.',
      '                                   ~~~~~~',
      'examples/broken/many-problems.yaml:11:14: error: Expected `seconds` to be one of 4, 8, 12 for model sora-2, but found 10',
      '    seconds: 10',
      '             ~~',
      'examples/broken/many-problems.yaml:14:22: error: Expected the reference image "refs/small-640x480.png" to be 1280x720 like the shot, but it is 640x480 (PNG); set `fit: cover` or `fit: contain` to resize it',
      '    input_reference: refs/small-640x480.png',
      '                     ~~~~~~~~~~~~~~~~~~~~~~',
      'examples/broken/many-problems.yaml:17:5: error: Expected a remix to set only its prompt (it inherits model, size and seconds from `mug`), but found `size`',
      '    size: 720x1280',
      '    ~~~~',
      'examples/broken/many-problems.yaml:20:5: error: Expected a field of shot `teaser` (prompt, model, size, seconds, input_reference, fit, remix_of, extend_of, output, assets, provider, frames, input_video, reference_images, variants, negative_prompt, seed, audio), but found `promt`; did you mean `prompt`?',
      '    promt: Vertical teaser.',
      '    ~~~~~',
      'examples/broken/many-problems.yaml:21:13: error: Expected `output` to stay inside out_dir, but "../teaser.mp4" leads out of it',
      '    output: ../teaser.mp4',
      '            ~~~~~~~~~~~~~',
    ],
  },
  {
    title: 'remix with a model that cannot remix (azure-sora1)',
    file: 'examples/broken/remix-unsupported.yaml',
    provider: 'legacy',
    ok: false,
    expected: [
      'examples/broken/remix-unsupported.yaml:10:15: error: Expected the model of `harbor` to support remix, but sora on provider type azure-sora1 cannot remix a video',
      '    remix_of: harbor',
      '              ~~~~~~',
    ],
  },
  {
    title: 'size checked against the Sora 1 table under --provider legacy',
    file: 'examples/broken/size-for-model.yaml',
    provider: 'legacy',
    ok: false,
    expected: [
      'examples/broken/size-for-model.yaml:4:12: warning: Expected a model known for provider type azure-sora1 (sora, sora-1), but found `sora-2`; its sizes and seconds are not checked',
      '    model: sora-2',
      '           ~~~~~~',
      'examples/broken/size-for-model.yaml:8:12: warning: Expected a model known for provider type azure-sora1 (sora, sora-1), but found `sora-2-pro`; its sizes and seconds are not checked',
      '    model: sora-2-pro',
      '           ~~~~~~~~~~',
      'examples/broken/size-for-model.yaml:12:11: error: Expected `size` to be one of 480x480, 480x854, 854x480, 720x720, 720x1280, 1280x720, 1080x1080, 1080x1920, 1920x1080 for model sora, but found 1024x1024',
      '    size: 1024x1024',
      '          ~~~~~~~~~',
    ],
  },
  {
    title: 'an unknown model passes with a warning',
    file: 'examples/broken/unknown-model.yaml',
    ok: true,
    expected: [
      'examples/broken/unknown-model.yaml:4:12: warning: Expected a model known for provider type emulator (sora-2, sora-2-2025-10-06, sora-2-2025-12-08, sora-2-pro, sora-2-pro-2025-10-06), but found `veo-3` (in 2 shots); its sizes and seconds are not checked',
      '    model: veo-3',
      '           ~~~~~',
    ],
  },
  {
    title: 'config: unknown provider type',
    file: 'examples/broken/configs/storyboard.yaml',
    configPath: 'examples/broken/configs/unknown-type.config.yaml',
    ok: false,
    expected: [
      'examples/broken/configs/unknown-type.config.yaml:5:11: error: Expected `type` to be one of emulator, openai, azure-sora1, vertex-veo, runway, fal, pool, but found "azure-openai"',
      '    type: azure-openai',
      '          ~~~~~~~~~~~~',
    ],
  },
  {
    title: 'config: provider not defined, with did-you-mean',
    file: 'examples/broken/configs/storyboard.yaml',
    configPath: 'examples/broken/configs/provider-not-defined.config.yaml',
    ok: false,
    expected: [
      'examples/broken/configs/provider-not-defined.config.yaml:2:11: error: Expected `provider` to name one of the providers (azure, emulator), but found azur; did you mean azure?',
      'provider: azur',
      '          ~~~~',
    ],
  },
  {
    title: 'config: base_url that is not an http(s) URL',
    file: 'examples/broken/configs/storyboard.yaml',
    configPath: 'examples/broken/configs/bad-base-url.config.yaml',
    ok: false,
    expected: [
      'examples/broken/configs/bad-base-url.config.yaml:6:15: error: Expected `base_url` to be an http:// or https:// URL, but found "contoso.openai.azure.com/openai/v1/"',
      '    base_url: contoso.openai.azure.com/openai/v1/',
      '              ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~',
      'examples/broken/configs/bad-base-url.config.yaml:9:15: error: Expected `base_url` to be an http:// or https:// URL, but found "ftp://contoso.example/v1"',
      '    base_url: ftp://contoso.example/v1',
      '              ~~~~~~~~~~~~~~~~~~~~~~~~',
    ],
  },
  {
    title: 'config: negative and fractional quota, negative price, unknown pricing field',
    file: 'examples/broken/configs/storyboard.yaml',
    configPath: 'examples/broken/configs/bad-quota.config.yaml',
    ok: false,
    expected: [
      'examples/broken/configs/bad-quota.config.yaml:6:34: error: Expected `quota.creates_per_minute` to be a positive whole number, but found -2',
      '    quota: { creates_per_minute: -2, max_in_flight: 1.5 }',
      '                                 ~~',
      'examples/broken/configs/bad-quota.config.yaml:6:53: error: Expected `quota.max_in_flight` to be a whole number, but found 1.5',
      '    quota: { creates_per_minute: -2, max_in_flight: 1.5 }',
      '                                                    ~~~',
      'examples/broken/configs/bad-quota.config.yaml:7:42: error: Expected `usd_per_second` to be at least 0, but found -0.1',
      '    pricing: { sora-2: { usd_per_second: -0.1 }, sora-2-pro: { usd_per_sec: 0.5 } }',
      '                                         ~~~~',
      'examples/broken/configs/bad-quota.config.yaml:7:64: error: Expected a field of the price of model `sora-2-pro` (usd_per_second), but found `usd_per_sec`; did you mean `usd_per_second`?',
      '    pricing: { sora-2: { usd_per_second: -0.1 }, sora-2-pro: { usd_per_sec: 0.5 } }',
      '                                                               ~~~~~~~~~~~',
    ],
  },
  {
    title: 'config: unknown fields',
    file: 'examples/broken/configs/storyboard.yaml',
    configPath: 'examples/broken/configs/unknown-field.config.yaml',
    ok: false,
    expected: [
      'examples/broken/configs/unknown-field.config.yaml:2:1: error: Expected a field of the config (version, provider, providers, manifest, out_dir, cache_dir, cache), but found `out_dirs`; did you mean `out_dir`?',
      'out_dirs: videos',
      '~~~~~~~~',
      'examples/broken/configs/unknown-field.config.yaml:6:5: error: Expected a field of provider `emulator` (type, base_url, auth, deployments, quota, pricing, render_seconds_per_second, project, location, api, gateway, members), but found `speed`',
      '    speed: 10',
      '    ~~~~~',
    ],
  },
  {
    title:
      'config: pools (members of two types, listed twice, unknown, a pool; fields of a member; no members)',
    file: 'examples/broken/configs/storyboard.yaml',
    configPath: 'examples/broken/configs/pool-rules.config.yaml',
    ok: false,
    expected: [
      "examples/broken/configs/pool-rules.config.yaml:12:14: error: Expected the members of pool `both` to be of one type (a pool spreads one model's jobs), but `east` is openai and `legacy` is azure-sora1",
      '    members: [east, legacy, east, north, inner]',
      '             ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~',
      'examples/broken/configs/pool-rules.config.yaml:12:29: error: Expected each member of pool `both` once, but `east` is listed twice',
      '    members: [east, legacy, east, north, inner]',
      '                            ~~~~',
      'examples/broken/configs/pool-rules.config.yaml:12:35: error: Expected the members of pool `both` to be providers defined under `providers:`, but `north` is not one (east, legacy, emulator)',
      '    members: [east, legacy, east, north, inner]',
      '                                  ~~~~~',
      'examples/broken/configs/pool-rules.config.yaml:12:42: error: Expected the members of pool `both` to be providers, but `inner` is a pool',
      '    members: [east, legacy, east, north, inner]',
      '                                         ~~~~~',
      'examples/broken/configs/pool-rules.config.yaml:13:5: error: Expected only `members` and `pricing` for `type: pool` (set `base_url` on its members), but found `base_url`',
      '    base_url: https://pool.example.com/v1',
      '    ~~~~~~~~',
      'examples/broken/configs/pool-rules.config.yaml:14:3: error: Expected pool `inner` to have `members` (the providers it spreads jobs over), but it is missing',
      '  inner:',
      '  ~~~~~',
      'examples/broken/configs/pool-rules.config.yaml:18:5: error: Expected `members` only for `type: pool`, but provider `solo` is type openai',
      '    members: [east]',
      '    ~~~~~~~',
    ],
  },
  {
    title: 'config: fields a provider type does not take; azure-sora1 without base_url; bad auth',
    file: 'examples/broken/configs/storyboard.yaml',
    configPath: 'examples/broken/configs/provider-rules.config.yaml',
    ok: false,
    expected: [
      'examples/broken/configs/provider-rules.config.yaml:5:5: error: Expected no `base_url` for `type: emulator` (it runs embedded; for an emulator running elsewhere use `type: openai` with `base_url: http://127.0.0.1:PORT/v1`), but found one',
      '    base_url: http://127.0.0.1:8080/v1',
      '    ~~~~~~~~',
      'examples/broken/configs/provider-rules.config.yaml:6:5: error: Expected no `auth` for `type: emulator` (it accepts any key), but found one',
      '    auth: api-key',
      '    ~~~~',
      'examples/broken/configs/provider-rules.config.yaml:7:3: error: Expected provider `legacy` (type azure-sora1) to have `base_url` (e.g. https://RESOURCE.openai.azure.com/openai/v1/), but it is missing',
      '  legacy:',
      '  ~~~~~~',
      'examples/broken/configs/provider-rules.config.yaml:12:11: error: Expected `auth` to be one of api-key, entra, but found "password"',
      '    auth: password',
      '          ~~~~~~~~',
      'examples/broken/configs/provider-rules.config.yaml:13:5: error: Expected `render_seconds_per_second` only for `type: emulator`, but provider `azure` is type openai',
      '    render_seconds_per_second: 2',
      '    ~~~~~~~~~~~~~~~~~~~~~~~~~',
      'examples/broken/configs/provider-rules.config.yaml:14:5: error: Expected `location` only for `type: vertex-veo`, but provider `azure` is type openai',
      '    location: europe-west4',
      '    ~~~~~~~~',
      'examples/broken/configs/provider-rules.config.yaml:18:5: error: Expected no `auth` for `type: vertex-veo` (it uses Google Application Default Credentials: `gcloud auth application-default login` or GOOGLE_APPLICATION_CREDENTIALS), but found one',
      '    auth: entra',
      '    ~~~~',
      'examples/broken/configs/provider-rules.config.yaml:19:5: error: Expected no `deployments` for `type: vertex-veo` (models are named as Vertex names them, e.g. veo-3.1-generate-001), but found one',
      '    deployments: { veo: veo-3.1-generate-001 }',
      '    ~~~~~~~~~~~',
      'examples/broken/configs/provider-rules.config.yaml:23:5: error: Expected `gateway` only for `type: openai` (an OpenAI-compatible gateway), but provider `gateway-on-sora1` is type azure-sora1',
      '    gateway: { remix: true }',
      '    ~~~~~~~',
    ],
  },
  {
    title: 'config: YAML syntax',
    file: 'examples/broken/configs/storyboard.yaml',
    configPath: 'examples/broken/configs/syntax.config.yaml',
    ok: false,
    expected: [
      'examples/broken/configs/syntax.config.yaml:4:9: error: Invalid YAML: Implicit keys need to be on a single line',
      '  type: emulator',
      '        ~~~~~~~~',
      'examples/broken/configs/syntax.config.yaml:4:9: error: Invalid YAML: Nested mappings are not allowed in compact mappings (if this is text containing `: `, put the text in quotes)',
      '  type: emulator',
      '        ~',
    ],
  },
  {
    title: 'config: version missing',
    file: 'examples/broken/configs/storyboard.yaml',
    configPath: 'examples/broken/configs/version-missing.config.yaml',
    ok: false,
    expected: [
      'examples/broken/configs/version-missing.config.yaml:1:1: error: Expected the config to have `version`, but it is missing',
      'provider: emulator',
      '~',
    ],
  },
  {
    title: 'config: --config naming a file that does not exist',
    file: 'examples/broken/configs/storyboard.yaml',
    configPath: 'examples/broken/configs/nothing-here.yaml',
    ok: false,
    expected: [
      '<command line>:1:10: error: Expected a config file at examples/broken/configs/nothing-here.yaml, but there is no such file',
      '--config examples/broken/configs/nothing-here.yaml',
      '         ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~',
    ],
  },
  {
    title: '--provider naming no provider',
    file: 'examples/broken/configs/storyboard.yaml',
    provider: 'azur',
    ok: false,
    expected: [
      '<command line>:1:12: error: Expected --provider to name a provider of the config (emulator, legacy), but found azur',
      '--provider azur',
      '           ~~~~',
    ],
  },
];

describe('broken manifests and configs', () => {
  it('cover at least 35 distinct mistakes', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(35);
    expect(new Set(CASES.map((c) => c.title)).size).toBe(CASES.length);
  });

  for (const c of CASES) {
    it(c.title, async () => {
      const result = await check(c.file, {
        env: ENV,
        ...(c.configPath === undefined ? {} : { configPath: c.configPath }),
        ...(c.provider === undefined ? {} : { provider: c.provider }),
      });
      expect(result.text).toBe(c.expected.map((line) => `${line}\n`).join(''));
      expect(result.ok).toBe(c.ok);
    });
  }

  it('reports the same output, in the same order, on every run', async () => {
    const first = await check('examples/broken/many-problems.yaml', { env: ENV });
    const second = await check('examples/broken/many-problems.yaml', { env: ENV });
    expect(second.text).toBe(first.text);
    const lines = first.text.split('\n').filter((l) => l.startsWith('examples/broken/many-problems.yaml:'));
    expect(lines).toHaveLength(6);
    const positions = lines.map((l) => l.split(':').slice(1, 3).map(Number) as [number, number]);
    const sorted = [...positions].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    expect(positions).toEqual(sorted);
  });
});
