import { escapeHtml, renderInline, renderMarkdown } from '../../web/src/lib/markdown';

/** The lesson-notes renderer (web/src/lib/markdown.ts): what it supports, and that nothing else gets through. */

/** Every tag in the output; the renderer may only ever produce these. */
const ALLOWED_TAGS = new Set([
  'h1',
  'h2',
  'h3',
  'h4',
  'h5',
  'h6',
  'p',
  'strong',
  'em',
  'code',
  'pre',
  'ul',
  'ol',
  'li',
  'a',
  'blockquote',
  'hr',
  'br',
]);
const tagsOf = (html: string) => [...html.matchAll(/<\/?([a-z0-9]+)/gi)].map((m) => m[1].toLowerCase());

describe('renderMarkdown: what it supports', () => {
  it('headings, shifted by the offset and capped at h6', () => {
    expect(renderMarkdown('# Title')).toBe('<h1>Title</h1>');
    expect(renderMarkdown('### Deeper ###')).toBe('<h3>Deeper</h3>');
    expect(renderMarkdown('# Title', { headingOffset: 2 })).toBe('<h3>Title</h3>');
    expect(renderMarkdown('###### Six', { headingOffset: 2 })).toBe('<h6>Six</h6>');
    expect(renderMarkdown('#NoSpace')).toBe('<p>#NoSpace</p>');
  });

  it('paragraphs split by blank lines, lines joined, hard breaks on two trailing spaces', () => {
    expect(renderMarkdown('one\ntwo\n\nthree')).toBe('<p>one\ntwo</p>\n<p>three</p>');
    expect(renderMarkdown('line  \nnext')).toBe('<p>line<br>\nnext</p>');
    expect(renderMarkdown('a\r\nb')).toBe('<p>a\nb</p>');
  });

  it('bold, italic and inline code', () => {
    expect(renderInline('**bold** and __also__')).toBe('<strong>bold</strong> and <strong>also</strong>');
    expect(renderInline('*it* and _it_')).toBe('<em>it</em> and <em>it</em>');
    expect(renderInline('***both***')).toBe('<em><strong>both</strong></em>');
    expect(renderInline('use `a **b** <c>`')).toBe('use <code>a **b** &lt;c&gt;</code>');
    expect(renderInline('snake_case_name stays')).toBe('snake_case_name stays');
    expect(renderInline('2 * 3 * 4')).toBe('2 * 3 * 4');
    expect(renderInline('\\*not italic\\*')).toBe('*not italic*');
    expect(renderInline('`a\\*b`')).toBe('<code>a\\*b</code>');
  });

  it('fenced code blocks keep their text as written, escaped', () => {
    const html = renderMarkdown('```js\nconst a = 1 < 2 && "x";\n# not a heading\n```\nafter');
    expect(html).toBe(
      '<pre><code class="language-js">const a = 1 &lt; 2 &amp;&amp; &quot;x&quot;;\n# not a heading</code></pre>\n<p>after</p>',
    );
    expect(renderMarkdown('~~~\nunclosed')).toBe('<pre><code>unclosed</code></pre>');
    expect(renderMarkdown('```"><script>\nx\n```')).toBe('<pre><code>x</code></pre>');
  });

  it('unordered, ordered and nested lists', () => {
    expect(renderMarkdown('- one\n- two\n* three')).toBe('<ul>\n<li>one</li>\n<li>two</li>\n<li>three</li>\n</ul>');
    expect(renderMarkdown('3. c\n4. d')).toBe('<ol start="3">\n<li>c</li>\n<li>d</li>\n</ol>');
    expect(renderMarkdown('- a\n  - a1\n  - a2\n- b')).toBe(
      '<ul>\n<li>a\n<ul>\n<li>a1</li>\n<li>a2</li>\n</ul></li>\n<li>b</li>\n</ul>',
    );
    expect(renderMarkdown('- a\n  more of a\n\n- b\n\nafter')).toBe(
      '<ul>\n<li>a\nmore of a</li>\n<li>b</li>\n</ul>\n<p>after</p>',
    );
    expect(renderMarkdown('1. **bold** item')).toBe('<ol>\n<li><strong>bold</strong> item</li>\n</ol>');
  });

  it('block quotes and rules', () => {
    expect(renderMarkdown('> quoted\n> more')).toBe('<blockquote><p>quoted\nmore</p></blockquote>');
    expect(renderMarkdown('a\n\n---\n\nb')).toBe('<p>a</p>\n<hr>\n<p>b</p>');
  });

  it('links to http(s) only, with rel="noopener noreferrer nofollow"', () => {
    expect(renderInline('[the docs](https://example.com/a?b=1&c=2)')).toBe(
      '<a href="https://example.com/a?b=1&amp;c=2" rel="noopener noreferrer nofollow" target="_blank">the docs</a>',
    );
    expect(renderInline('[x](http://e.com "title")')).toContain('href="http://e.com"');
    expect(renderInline('[wiki](https://en.wikipedia.org/wiki/Set_(mathematics))')).toContain(
      'href="https://en.wikipedia.org/wiki/Set_(mathematics)"',
    );
    expect(renderInline('[**bold** link](https://e.com)')).toContain('><strong>bold</strong> link</a>');
  });
});

describe('renderMarkdown: nothing unsafe gets through', () => {
  const attacks = [
    '<script>alert(1)</script>',
    '<img src=x onerror=alert(1)>',
    '<a href="javascript:alert(1)">x</a>',
    '[x](javascript:alert(1))',
    '[x](JAVASCRIPT:alert(1))',
    '[x](  javascript:alert(1))',
    '[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)',
    '[x](vbscript:msgbox)',
    '[x](//evil.example/path)',
    '[x](/relative)',
    '[x](https://e.com" onmouseover="alert(1))',
    '[x](https://e.com"onmouseover="alert(1)")',
    '[<img src=x onerror=alert(1)>](https://e.com)',
    '**<b onclick=alert(1)>x</b>**',
    '`</code><script>alert(1)</script>`',
    '# <iframe src="https://evil.example">',
    '- <svg onload=alert(1)>',
    '> <style>body{display:none}</style>',
    '```\n</code></pre><script>alert(1)</script>\n```',
    '![img](https://e.com/x.png)',
    '<https://e.com>',
    'x\uE000y',
  ];

  it.each(attacks)('%j renders only the renderer’s own tags, and no scheme but http(s)', (attack) => {
    const html = renderMarkdown(attack);
    for (const tag of tagsOf(html)) expect(ALLOWED_TAGS.has(tag)).toBe(true);
    expect(html).not.toMatch(/<[a-z]+[^>]*\son[a-z]+=/i);
    for (const m of html.matchAll(/href="([^"]*)"/g)) expect(m[1]).toMatch(/^https?:\/\//);
    // An attribute value never breaks out of its quotes.
    for (const m of html.matchAll(/<a [^>]*>/g)) {
      expect(m[0]).toMatch(/^<a href="[^"<>]*" rel="noopener noreferrer nofollow" target="_blank">$/);
    }
  });

  it('escapes the raw HTML instead of dropping it, so the author sees what they wrote', () => {
    expect(renderMarkdown('<script>alert(1)</script>')).toBe('<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>');
    expect(renderMarkdown('[x](javascript:alert(1))')).toBe('<p>x</p>');
    expect(renderMarkdown('Tom & "Jerry" \'s')).toBe('<p>Tom &amp; &quot;Jerry&quot; &#39;s</p>');
    expect(escapeHtml('<>&"\'')).toBe('&lt;&gt;&amp;&quot;&#39;');
  });

  it('a quote in a link address stays inside the attribute', () => {
    const html = renderMarkdown('[x](https://e.com/"onmouseover="alert(1))');
    expect(html).not.toContain('" onmouseover');
    expect(html).toContain('&quot;');
  });

  it('handles long and odd input (no runaway backtracking: the test timeout would catch it)', () => {
    const long = `${'*'.repeat(5000)}${'_a'.repeat(5000)}${'['.repeat(2000)}${'`'.repeat(3000)}`;
    const html = renderMarkdown(`${long}\n\n- ${long}\n\n# ${long}`);
    expect(typeof html).toBe('string');
    // Deep nesting is capped rather than recursed into.
    expect(renderMarkdown('>'.repeat(20_000))).toContain('<blockquote>');
    const deepList = Array.from({ length: 3000 }, (_, n) => `${' '.repeat(n)}- item`).join('\n');
    expect(renderMarkdown(deepList).match(/<ul>/g)?.length).toBeLessThanOrEqual(9);
    expect(renderMarkdown('')).toBe('');
    expect(renderMarkdown('\n\n   \n')).toBe('');
  });
});
