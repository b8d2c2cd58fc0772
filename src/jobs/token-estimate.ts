/**
 * Estimates the tokens a BPE tokenizer (cl100k-like) would count, without shipping a vocabulary:
 * each word costs one token per ~4 characters, each punctuation mark or symbol one token, and
 * whitespace is folded into the following word. Within ~15% of real counts on English prose;
 * the limiter reserves with it and reconciles with the provider's `usage` afterwards.
 */
export function estimateTokens(text: string): number {
  let tokens = 0;
  for (const match of text.matchAll(/[\p{L}\p{N}_]+|[^\s\p{L}\p{N}_]/gu)) {
    const piece = match[0];
    tokens += piece.length <= 4 ? 1 : Math.ceil(piece.length / 4);
  }
  return tokens;
}

/** Tokens of a chat request: the messages plus a few tokens of framing per message. */
export function estimateChatTokens(messages: Array<{ content: string }>, maxOutputTokens: number): number {
  return messages.reduce((sum, message) => sum + 4 + estimateTokens(message.content), 3) + maxOutputTokens;
}
