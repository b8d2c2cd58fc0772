type Pending<T> = { entry: T; resolve: () => void; reject: (error: unknown) => void };

/**
 * Collects single calls into batches of up to `maxSize`, sent when full or `lingerMs` after the
 * first entry. SQS charges per request, so ten deletes in one DeleteMessageBatch cost a tenth.
 */
export class Batcher<T> {
  private pending: Array<Pending<T>> = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly sending = new Set<Promise<void>>();

  constructor(
    private readonly sendBatch: (entries: T[]) => Promise<Array<{ index: number; error: Error }>>,
    private readonly maxSize: number,
    private readonly lingerMs: number,
  ) {}

  add(entry: T): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ entry, resolve, reject });
      if (this.pending.length >= this.maxSize) void this.flush();
      else this.timer ??= setTimeout(() => void this.flush(), this.lingerMs);
    });
  }

  /** Sends everything pending and waits for every batch still on the wire (shutdown relies on it). */
  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const sends: Array<Promise<void>> = [];
    while (this.pending.length > 0) sends.push(this.track(this.send(this.pending.splice(0, this.maxSize))));
    await Promise.all([...sends, ...this.sending]);
  }

  private track(send: Promise<void>): Promise<void> {
    this.sending.add(send);
    return send.finally(() => this.sending.delete(send));
  }

  private async send(batch: Array<Pending<T>>): Promise<void> {
    try {
      const failures = await this.sendBatch(batch.map((item) => item.entry));
      const failed = new Map(failures.map((failure) => [failure.index, failure.error]));
      batch.forEach((item, index) => {
        const error = failed.get(index);
        if (error) item.reject(error);
        else item.resolve();
      });
    } catch (error) {
      for (const item of batch) item.reject(error);
    }
  }
}
