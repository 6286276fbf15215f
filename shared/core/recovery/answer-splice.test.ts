import { describe, expect, it } from 'vitest';
import { ContinuationJoiner, DeliveredAnswer, ReplayMatcher } from './answer-splice.js';

const content = (text: string) => ({ channel: 'content', text });
const delivered = (...pieces: { channel: string; text: string }[]) => {
  const answer = new DeliveredAnswer();
  answer.add(pieces);
  return answer;
};

describe('DeliveredAnswer', () => {
  it('merges consecutive pieces of a channel and knows whether a prefill can carry it', () => {
    const answer = delivered(content('Hel'), content('lo'));
    expect([answer.content, answer.length, answer.contentOnly]).toEqual(['Hello', 5, true]);
    answer.add([{ channel: 'tool.0.name', text: 'f' }]);
    expect(answer.contentOnly).toBe(false);
  });
});

describe('ReplayMatcher', () => {
  it('holds back a replay until it covers the delivered text, then forwards only the rest', () => {
    const replay = new ReplayMatcher(delivered(content('Hello wor')));
    expect(replay.accept([content('Hello')])).toEqual({ diverged: false, covered: false, pieces: [], whole: false });
    expect(replay.accept([content(' world')])).toEqual({
      diverged: false,
      covered: true,
      pieces: [content('ld')],
      whole: false,
    });
    expect(replay.accept([content('!')])).toEqual({
      diverged: false,
      covered: true,
      pieces: [content('!')],
      whole: true,
    });
  });

  it('reports a divergence at the first differing character', () => {
    const replay = new ReplayMatcher(delivered(content('Hello world')));
    expect(replay.accept([content('Hello')])).toMatchObject({ diverged: false, covered: false });
    expect(replay.accept([content(' there')])).toEqual({ diverged: true });
  });

  it('is a divergence when the replay goes on where the original switched channel', () => {
    const replay = new ReplayMatcher(delivered(content('Let me check.'), { channel: 'tool.0.name', text: 'weather' }));
    expect(replay.accept([content('Let me check. Also')])).toEqual({ diverged: true });
  });

  it('follows the channels in order: text, then a tool call name and arguments', () => {
    const answer = delivered(
      content('Sure.'),
      { channel: 'tool.0.name', text: 'weather' },
      { channel: 'tool.0.arguments', text: '{"ci' },
    );
    const replay = new ReplayMatcher(answer);
    expect(replay.accept([content('Sure.')])).toMatchObject({ covered: false });
    expect(replay.accept([{ channel: 'tool.0.name', text: 'weather' }])).toMatchObject({ covered: false });
    expect(replay.accept([{ channel: 'tool.0.arguments', text: '{"city"' }])).toEqual({
      diverged: false,
      covered: true,
      pieces: [{ channel: 'tool.0.arguments', text: 'ty"' }],
      whole: false,
    });
  });

  it('is covered from the start when nothing was delivered', () => {
    const replay = new ReplayMatcher(new DeliveredAnswer());
    expect(replay.accept([content('Hi')])).toEqual({
      diverged: false,
      covered: true,
      pieces: [content('Hi')],
      whole: true,
    });
  });
});

describe('ContinuationJoiner', () => {
  it('forwards a continuation as it is', () => {
    expect(new ContinuationJoiner('').accept([content(' world')])).toEqual({
      diverged: false,
      covered: true,
      pieces: [content(' world')],
      whole: true,
    });
  });

  it('drops the opening blanks that repeat those the prefill had to leave out', () => {
    const joiner = new ContinuationJoiner(' ');
    expect(joiner.accept([content(' world')])).toMatchObject({ pieces: [content('world')], whole: false });
    expect(joiner.accept([content(' again')])).toMatchObject({ pieces: [content(' again')], whole: true });
  });

  it('keeps a continuation that does not repeat the blanks', () => {
    expect(new ContinuationJoiner(' ').accept([content('world')])).toMatchObject({ pieces: [content('world')] });
  });
});
