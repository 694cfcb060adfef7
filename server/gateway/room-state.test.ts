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

  it('is null without words', () => {
    expect(bannedWordsMatcher([])).toBeNull();
  });
});
