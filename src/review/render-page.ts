/**
 * The review page from its template (`page/page.html`, `page.css`, `page.js`): plain HTML, CSS and a classic
 * script, inlined into one document so the same page works served on loopback and opened from disk. The
 * data goes in as JSON inside a `<script type="application/json">`, escaped so no text from the storyboard
 * can end the element; the script and style carry a per-page nonce that the server's CSP requires.
 */
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import type { ReviewModel } from './review-model.ts';

// Resolved from the sources in both layouts (src/review/*.ts and the compiled dist/review/*.js): the page
// files are not TypeScript, so tsc does not copy them into dist/.
const PAGE_DIR = new URL('../../src/review/page/', import.meta.url);

let template: { html: string; css: string; js: string } | undefined;
function pageTemplate(): { html: string; css: string; js: string } {
  template ??= {
    html: readFileSync(new URL('page.html', PAGE_DIR), 'utf8'),
    css: readFileSync(new URL('page.css', PAGE_DIR), 'utf8'),
    js: readFileSync(new URL('page.js', PAGE_DIR), 'utf8'),
  };
  return template;
}

export interface PageData {
  readonly model: ReviewModel;
  /** The per-run pinning token; null in an export (nothing can be pinned from a static folder). */
  readonly token: string | null;
  /** Whether the page subscribes to `api/events`. */
  readonly live: boolean;
}

/** JSON that is safe inside a `<script>` element. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function renderPage(data: PageData, nonce: string = randomBytes(16).toString('base64')): string {
  const t = pageTemplate();
  const values: Record<string, string> = {
    TITLE: escapeHtml(data.model.title),
    NONCE: nonce,
    CSS: t.css,
    SCRIPT: t.js,
    DATA: scriptJson(data),
  };
  // One pass with a function replacer: no `$&` surprises, and no placeholder inside a value is expanded.
  return t.html.replace(/\{\{([A-Z]+)\}\}/g, (whole, name: string) => values[name] ?? whole);
}
