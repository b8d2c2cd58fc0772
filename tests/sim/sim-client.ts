/** Tiny fetch helpers for the simulator tests. */

export interface JsonReply {
  status: number;
  headers: Headers;
  body: any;
}

export async function call(url: string, method: string, body?: unknown, headers: Record<string, string> = {}): Promise<JsonReply> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    (init.headers as Record<string, string>)['content-type'] = 'application/json';
  }
  const res = await fetch(url, init);
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text === '' ? null : JSON.parse(text) };
}

export function chatBody(userText: string, extra: Record<string, unknown> = {}) {
  return {
    model: 'gpt-4o-mini',
    messages: [
      { role: 'system', content: 'You write short summaries.' },
      { role: 'user', content: userText },
    ],
    ...extra,
  };
}

/** Polls until `check` holds; the deadline only guards against a hang, it is not a timing assertion. */
export async function eventually(check: () => boolean, deadlineMs = 3000): Promise<void> {
  const until = Date.now() + deadlineMs;
  while (!check()) {
    if (Date.now() > until) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}
