import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { EXACT_ESTIMATE_CHARS, estimateChatTokens, estimateTokens, estimateTokensSampled } from '../../src/jobs/token-estimate.ts';

/** The estimate's definition: one token per punctuation mark, one per ~4 characters of a word. */
function byRegex(text: string): number {
  let tokens = 0;
  for (const match of text.matchAll(/[\p{L}\p{N}_]+|[^\s\p{L}\p{N}_]/gu)) tokens += match[0].length <= 4 ? 1 : Math.ceil(match[0].length / 4);
  return tokens;
}

describe('estimateTokens', () => {
  it('counts words by length and symbols one each, whitespace free', () => {
    assert.equal(estimateTokens(''), 0);
    assert.equal(estimateTokens('   \n\t'), 0);
    assert.equal(estimateTokens('word'), 1);
    assert.equal(estimateTokens('renewal'), 2);
    assert.equal(estimateTokens('a, b!'), 4);
    assert.equal(estimateTokens('naïve café 東京'), 4);
  });

  it('agrees with its regex definition on any text, astral characters and lone surrogates included', () => {
    const char = fc.oneof(
      fc.constantFrom(' ', '\n', '\u00a0', '\u3000', '_', '.', '😀', 'é', '東', '\ud800', '\udc00', '٣'),
      fc.string({ unit: 'grapheme-ascii', maxLength: 1 }),
      fc.string({ unit: 'binary', maxLength: 1 }),
    );
    fc.assert(fc.property(fc.array(char, { maxLength: 60 }).map((chars) => chars.join('')), (text) => estimateTokens(text) === byRegex(text)), { numRuns: 2000 });
  });

  it('adds framing per message and the output allowance for a chat', () => {
    assert.equal(estimateChatTokens([{ content: 'word' }, { content: 'a, b!' }], 200), 3 + (4 + 1) + (4 + 4) + 200);
  });

  it('reads a text up to EXACT_ESTIMATE_CHARS whole, and scales a longer one from samples within a few percent', () => {
    const words = 'the renewal was agreed on Tuesday, after the invoice dispute (ticket #4411) was settled; onboarding starts in Q3 für das Team'.split(' ');
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: words.length - 1 }), { minLength: 1, maxLength: 40_000 }), fc.constantFrom(' ', '\n', '  '), (picks, gap) => {
        const text = picks.map((i) => words[i]).join(gap);
        const exact = estimateTokens(text);
        const sampled = estimateTokensSampled(text);
        if (text.length <= EXACT_ESTIMATE_CHARS) return sampled === exact;
        return Math.abs(sampled - exact) <= exact * 0.05;
      }),
      { numRuns: 60 },
    );
  });

  it('estimates a chat by sampling its long messages', () => {
    const context = 'customer renewal invoice meeting, priority shipment; contract feedback budget roadmap. '.repeat(800);
    const estimate = estimateChatTokens([{ content: 'Summarize.' }, { content: context }], 100);
    const exact = 3 + 4 + estimateTokens('Summarize.') + 4 + estimateTokens(context) + 100;
    assert.ok(Math.abs(estimate - exact) <= exact * 0.02, `${estimate} vs ${exact}`);
  });
});
