/**
 * A small, safe Markdown renderer for lesson notes. Everything the author wrote is escaped; the
 * only markup in the output is the renderer's own: headings, paragraphs, bold and italic, inline
 * code, fenced code blocks, lists (nested by indentation), block quotes, rules and links — links
 * only to http(s) addresses, opened with rel="noopener noreferrer nofollow". No raw HTML, no
 * images, no other URL schemes. Pure string work (no DOM), so it runs in Node for its tests.
 */

export interface MarkdownOptions {
  /** Added to heading levels (capped at h6): notes under a page's own h2 start at h3 with 2. */
  headingOffset?: number;
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

const LINK_REL = 'noopener noreferrer nofollow';
// Private-use characters stand in for backslash-escaped punctuation while inline markup is parsed.
const PLACEHOLDER_BASE = 0xe000;
const PRIVATE_USE = /[\uE000-\uF8FF]/g;
const ESCAPABLE = /\\([\\`*_{}[\]()#+\-.!>~|])/g;

const FENCE = /^ {0,3}(`{3,}|~{3,})\s*([^`\s]*)[^`]*$/;
const HEADING = /^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/;
const RULE = /^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$/;
const QUOTE = /^ {0,3}> ?(.*)$/;
const ITEM = /^( *)([-*+]|\d{1,9}[.)])[ \t]+(.*)$/;
const BLANK = /^\s*$/;

/** Renders Markdown to an HTML string that is safe to put into the page with innerHTML. */
export function renderMarkdown(source: string, options: MarkdownOptions = {}): string {
  const text = source.replace(/\r\n?/g, '\n').replace(PRIVATE_USE, '').replace(/\t/g, '    ');
  return renderBlocks(text.split('\n'), options.headingOffset ?? 0, 0);
}

/** Quotes and lists nest at most this deep; deeper markers are plain text (no runaway recursion). */
const MAX_DEPTH = 8;

function renderBlocks(lines: string[], headingOffset: number, depth: number): string {
  const out: string[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (BLANK.test(line)) {
      i++;
      continue;
    }
    const fence = FENCE.exec(line);
    if (fence) {
      const [marker, lang] = [fence[1], fence[2]];
      const body: string[] = [];
      i++;
      while (i < lines.length && !isClosingFence(lines[i], marker)) body.push(lines[i++]);
      i++; // the closing fence (or the end of the notes)
      const language = /^[\w+-]{1,30}$/.test(lang) ? ` class="language-${lang}"` : '';
      out.push(`<pre><code${language}>${escapeHtml(body.join('\n'))}</code></pre>`);
      continue;
    }
    const heading = HEADING.exec(line);
    if (heading) {
      const level = Math.min(6, heading[1].length + headingOffset);
      out.push(`<h${level}>${renderInline(heading[2] ?? '')}</h${level}>`);
      i++;
      continue;
    }
    if (RULE.test(line)) {
      out.push('<hr>');
      i++;
      continue;
    }
    if (QUOTE.test(line) && depth < MAX_DEPTH) {
      const quoted: string[] = [];
      while (i < lines.length && !BLANK.test(lines[i])) {
        const m = QUOTE.exec(lines[i]);
        quoted.push(m ? m[1] : lines[i]);
        i++;
      }
      out.push(`<blockquote>${renderBlocks(quoted, headingOffset, depth + 1)}</blockquote>`);
      continue;
    }
    if (ITEM.test(line)) {
      const list = parseList(lines, i, depth);
      out.push(list.html);
      i = list.next;
      continue;
    }
    const paragraph: string[] = [];
    while (i < lines.length && !BLANK.test(lines[i]) && !startsBlock(lines[i])) paragraph.push(lines[i++]);
    if (!paragraph.length) paragraph.push(lines[i++]); // a line no other rule took
    out.push(`<p>${renderLines(paragraph)}</p>`);
  }
  return out.join('\n');
}

function isClosingFence(line: string, marker: string): boolean {
  const trimmed = line.trim();
  return trimmed.length >= marker.length && trimmed === marker[0].repeat(trimmed.length);
}

function startsBlock(line: string): boolean {
  return FENCE.test(line) || HEADING.test(line) || RULE.test(line) || QUOTE.test(line) || ITEM.test(line);
}

/** Lines of one paragraph or list item: a line ending in two spaces (or a backslash) breaks. */
function renderLines(lines: string[]): string {
  return lines
    .map((line, n) => {
      const last = n === lines.length - 1;
      const hardBreak = !last && (/ {2,}$/.test(line) || /\\$/.test(line));
      const content = renderInline(line.replace(/\\$/, '').trim());
      return hardBreak ? `${content}<br>` : content;
    })
    .join('\n');
}

interface Item {
  lines: string[];
  children: string[];
}

/** A list starting at `start`: its items, nested lists (deeper indentation) inside them. */
function parseList(lines: string[], start: number, depth: number): { html: string; next: number } {
  const first = ITEM.exec(lines[start]) as RegExpExecArray;
  const indent = first[1].length;
  const ordered = /\d/.test(first[2]);
  const items: Item[] = [];
  let i = start;
  while (i < lines.length) {
    const line = lines[i];
    const m = ITEM.exec(line);
    if (m && m[1].length === indent && /\d/.test(m[2]) === ordered) {
      items.push({ lines: [m[3]], children: [] });
      i++;
      continue;
    }
    const item = items[items.length - 1];
    if (m && m[1].length > indent && depth < MAX_DEPTH) {
      const nested = parseList(lines, i, depth + 1);
      item.children.push(nested.html);
      i = nested.next;
      continue;
    }
    if (BLANK.test(line)) {
      // A blank line ends the list unless the list (or this item) carries on after it.
      let next = i + 1;
      while (next < lines.length && BLANK.test(lines[next])) next++;
      const after = lines[next];
      const carriesOn =
        after !== undefined &&
        ((ITEM.test(after) && (ITEM.exec(after) as RegExpExecArray)[1].length >= indent) ||
          leadingSpaces(after) > indent + 1);
      if (!carriesOn) break;
      i = next;
      continue;
    }
    if (m || startsBlock(line)) {
      if (leadingSpaces(line) <= indent) break;
    }
    item.lines.push(line.trim()); // continuation of the item's text
    i++;
  }
  const tag = ordered ? 'ol' : 'ul';
  const startNumber = ordered ? Number.parseInt(first[2], 10) : 1;
  const startAttr = ordered && startNumber !== 1 ? ` start="${startNumber}"` : '';
  const body = items
    .map((item) => `<li>${renderLines(item.lines)}${item.children.map((c) => `\n${c}`).join('')}</li>`)
    .join('\n');
  return { html: `<${tag}${startAttr}>\n${body}\n</${tag}>`, next: i };
}

function leadingSpaces(line: string): number {
  return (/^ */.exec(line) as RegExpExecArray)[0].length;
}

// --- inline ------------------------------------------------------------------------------------

const LINK = /\[([^\]]*)\]\(\s*<?([^\s<>()]*(?:\([^\s<>()]*\)[^\s<>()]*)*)>?(?:\s+(?:"[^"]*"|'[^']*'))?\s*\)/;
const SAFE_URL = /^https?:\/\/[^\s]+$/i;

/** Inline markup of one line: code spans first (taken literally), then links, then emphasis. */
export function renderInline(text: string): string {
  const stash: string[] = [];
  const hidden = text.replace(ESCAPABLE, (_m, c: string) => {
    stash.push(c);
    return String.fromCharCode(PLACEHOLDER_BASE + stash.length - 1);
  });
  const restore = (s: string, asWritten: boolean) =>
    s.replace(PRIVATE_USE, (c) => {
      const char = stash[c.charCodeAt(0) - PLACEHOLDER_BASE] ?? '';
      return escapeHtml(asWritten ? `\\${char}` : char);
    });
  return splitCodeSpans(hidden)
    .map((part) =>
      // Inside code everything is shown as written, backslashes included.
      part.code
        ? `<code>${restore(escapeHtml(part.text.trim() || part.text), true)}</code>`
        : restore(links(part.text), false),
    )
    .join('');
}

/**
 * Code spans: a run of backticks up to the next run of the same length. Found from the list of
 * runs rather than by a backtracking pattern, so a line full of backticks stays cheap.
 */
function splitCodeSpans(text: string): { code: boolean; text: string }[] {
  const runs = [...text.matchAll(/`+/g)].map((m) => ({ at: m.index, length: m[0].length }));
  const parts: { code: boolean; text: string }[] = [];
  let pos = 0;
  for (let r = 0; r < runs.length; r++) {
    const open = runs[r];
    let close = r + 1;
    while (close < runs.length && runs[close].length !== open.length) close++;
    if (close >= runs.length) continue; // no closing run: the backticks are plain text
    parts.push({ code: false, text: text.slice(pos, open.at) });
    parts.push({ code: true, text: text.slice(open.at + open.length, runs[close].at) });
    pos = runs[close].at + open.length;
    r = close;
  }
  parts.push({ code: false, text: text.slice(pos) });
  return parts.filter((p) => p.code || p.text);
}

function links(text: string): string {
  let out = '';
  let rest = text;
  for (let m = LINK.exec(rest); m; m = LINK.exec(rest)) {
    out += emphasis(escapeHtml(rest.slice(0, m.index)));
    const label = emphasis(escapeHtml(m[1]));
    const url = m[2];
    out += SAFE_URL.test(url)
      ? `<a href="${escapeHtml(url)}" rel="${LINK_REL}" target="_blank">${label || escapeHtml(url)}</a>`
      : label;
    rest = rest.slice(m.index + m[0].length);
  }
  return out + emphasis(escapeHtml(rest));
}

/** Bold and italic on already escaped text: the only tags added are the renderer's own. */
function emphasis(escaped: string): string {
  return escaped
    .replace(/\*\*\*(?=\S)([\s\S]*?\S)\*\*\*/g, '<em><strong>$1</strong></em>')
    .replace(/\*\*(?=\S)([\s\S]*?\S)\*\*/g, '<strong>$1</strong>')
    .replace(/(^|[^\w])__(?=\S)([\s\S]*?\S)__(?!\w)/g, '$1<strong>$2</strong>')
    .replace(/\*(?=[^\s*])([\s\S]*?[^\s*])\*/g, (m, inner: string) => (nested(inner) ? `<em>${inner}</em>` : m))
    .replace(/(^|[^\w])_(?=[^\s_])([\s\S]*?[^\s_])_(?!\w)/g, (m, before: string, inner: string) =>
      nested(inner) ? `${before}<em>${inner}</em>` : m,
    );
}

/** Whether the tags inside `html` open and close in order, so wrapping it nests properly. */
function nested(html: string): boolean {
  let depth = 0;
  for (const tag of html.matchAll(/<(\/?)(strong|em)>/g)) {
    depth += tag[1] ? -1 : 1;
    if (depth < 0) return false;
  }
  return depth === 0;
}
