/**
 * Estimates the tokens a BPE tokenizer (cl100k-like) would count, without shipping a vocabulary:
 * each word costs one token per ~4 characters, each punctuation mark or symbol one token, and
 * whitespace is folded into the following word. Within ~15% of real counts on English prose;
 * the limiter reserves with it and reconciles with the provider's `usage` afterwards.
 */
export function estimateTokens(text: string): number {
  return countTokens(text, 0, text.length);
}

/** Up to this many characters a text is read whole; a longer one is estimated from samples. */
export const EXACT_ESTIMATE_CHARS = 16_384;
const SAMPLES = 8;

/**
 * `estimateTokens`, read whole up to EXACT_ESTIMATE_CHARS, else scaled from 8 samples spread evenly
 * over the text, 16 K characters in all: a 64 KB context costs a quarter of a full pass. The
 * estimate only reserves limiter capacity (it is reconciled with the provider's count after the
 * call), and prose is even enough that the samples land within a few percent of the whole.
 */
export function estimateTokensSampled(text: string): number {
  if (text.length <= EXACT_ESTIMATE_CHARS) return countTokens(text, 0, text.length);
  const sampleChars = EXACT_ESTIMATE_CHARS / SAMPLES;
  const stride = (text.length - sampleChars) / (SAMPLES - 1);
  let tokens = 0;
  for (let k = 0; k < SAMPLES; k += 1) {
    const from = Math.floor(k * stride);
    tokens += countTokens(text, from, from + sampleChars);
  }
  return Math.round((tokens * text.length) / EXACT_ESTIMATE_CHARS);
}

function countTokens(text: string, from: number, to: number): number {
  // One pass over character codes (a 64 KB context is ~13,000 pieces: a regex match object for
  // each costs more than the count). Pieces are what /[\p{L}\p{N}_]+|[^\s\p{L}\p{N}_]/gu
  // matches; their length is counted in UTF-16 units, as that regex's matches would be. ASCII,
  // nearly all of a typical prompt, is classified by table lookup.
  let tokens = 0;
  let word = 0; // UTF-16 units of the word being read
  for (let i = from; i < to; ) {
    let code = text.charCodeAt(i);
    let units = 1;
    let kind: number;
    if (code < 128) kind = ASCII_KIND[code] as number;
    else {
      code = text.codePointAt(i) as number;
      units = code > 0xffff ? 2 : 1;
      kind = wideKind(code);
    }
    if (kind === WORD) {
      word += units;
    } else {
      if (word > 0) tokens += word <= 4 ? 1 : (word + 3) >> 2;
      word = 0;
      if (kind === SYMBOL) tokens += 1;
    }
    i += units;
  }
  if (word > 0) tokens += word <= 4 ? 1 : (word + 3) >> 2;
  return tokens;
}

const SPACE = 0;
const WORD = 1;
const SYMBOL = 2;
const WORD_CHAR = /^[\p{L}\p{N}_]$/u;
const SPACE_CHAR = /^\s$/u;

const ASCII_KIND = Uint8Array.from({ length: 128 }, (_, code) => {
  if ((code >= 97 && code <= 122) || (code >= 65 && code <= 90) || (code >= 48 && code <= 57) || code === 95) return WORD;
  return code === 32 || (code >= 9 && code <= 13) ? SPACE : SYMBOL;
});

function wideKind(code: number): number {
  const char = String.fromCodePoint(code);
  if (WORD_CHAR.test(char)) return WORD;
  return SPACE_CHAR.test(char) ? SPACE : SYMBOL;
}

/** Tokens of a chat request: the messages plus a few tokens of framing per message. */
export function estimateChatTokens(messages: Array<{ content: string }>, maxOutputTokens: number): number {
  return messages.reduce((sum, message) => sum + 4 + estimateTokensSampled(message.content), 3) + maxOutputTokens;
}
