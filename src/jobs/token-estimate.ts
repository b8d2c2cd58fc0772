/**
 * Estimates the tokens a BPE tokenizer (cl100k-like) would count, without shipping a vocabulary:
 * each word costs one token per ~4 characters, each punctuation mark or symbol one token, and
 * whitespace is folded into the following word. Within ~15% of real counts on English prose;
 * the limiter reserves with it and reconciles with the provider's `usage` afterwards.
 */
export function estimateTokens(text: string): number {
  // One pass over character codes (a 64 KB context is ~13,000 pieces: a regex match object for
  // each costs more than the count). Pieces are what /[\p{L}\p{N}_]+|[^\s\p{L}\p{N}_]/gu
  // matches; their length is counted in UTF-16 units, as that regex's matches would be.
  let tokens = 0;
  let word = 0; // UTF-16 units of the word being read
  for (let i = 0; i < text.length; ) {
    const code = text.codePointAt(i) as number;
    const units = code > 0xffff ? 2 : 1;
    const kind = charKind(code);
    if (kind === WORD) {
      word += units;
    } else {
      if (word > 0) tokens += word <= 4 ? 1 : Math.ceil(word / 4);
      word = 0;
      if (kind === SYMBOL) tokens += 1;
    }
    i += units;
  }
  if (word > 0) tokens += word <= 4 ? 1 : Math.ceil(word / 4);
  return tokens;
}

const SPACE = 0;
const WORD = 1;
const SYMBOL = 2;
const WORD_CHAR = /^[\p{L}\p{N}_]$/u;
const SPACE_CHAR = /^\s$/u;

function charKind(code: number): number {
  if (code < 128) {
    if ((code >= 97 && code <= 122) || (code >= 65 && code <= 90) || (code >= 48 && code <= 57) || code === 95) return WORD;
    return code === 32 || (code >= 9 && code <= 13) ? SPACE : SYMBOL;
  }
  const char = String.fromCodePoint(code);
  if (WORD_CHAR.test(char)) return WORD;
  return SPACE_CHAR.test(char) ? SPACE : SYMBOL;
}

/** Tokens of a chat request: the messages plus a few tokens of framing per message. */
export function estimateChatTokens(messages: Array<{ content: string }>, maxOutputTokens: number): number {
  return messages.reduce((sum, message) => sum + 4 + estimateTokens(message.content), 3) + maxOutputTokens;
}
