import { bannedWordsMatcher } from './room-state';

describe('bannedWordsMatcher', () => {
  it('matches whole words, ignoring case, and escapes regex characters', () => {
    const m = bannedWordsMatcher(['spam', 'c++', 'bad word'])!;
    expect(m.test('this is SPAM!')).toBe(true);
    expect(m.test('spammer')).toBe(false);
    expect(m.test('I like c++ a lot')).toBe(true);
    expect(m.test('a bad word here')).toBe(true);
    expect(m.test('badword')).toBe(false);
    expect(m.test('ÉSPAM')).toBe(false);
  });

  it('sees through compatibility forms and invisible format characters', () => {
    const m = bannedWordsMatcher(['spam'])!;
    expect(m.test('ｓｐａｍ')).toBe(true); // full-width
    expect(m.test('ⓢⓟⓐⓜ')).toBe(true); // circled
    expect(m.test('sp\u200bam')).toBe(true); // zero-width space
    expect(m.test('s\u200dp\u2060a\u00adm!')).toBe(true); // joiner, word joiner, soft hyphen
    expect(m.test('\u202espam')).toBe(true); // right-to-left override
    expect(m.test('spa m')).toBe(false);
  });

  it('is null without words', () => {
    expect(bannedWordsMatcher([])).toBeNull();
  });
});
