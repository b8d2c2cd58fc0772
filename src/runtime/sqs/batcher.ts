/**
 * Collects single calls into batches of up to `maxSize`, sent when full or `lingerMs` after the
 * first entry. SQS charges per request, so ten deletes in one DeleteMessageBatch cost a tenth.
 */
export class Batcher<T> {
  private pending: Array<{ entry: T; resolve: () => void; reject: (error: unknown) => void }> = [];
  private timer: NodeJS.Timeout | undefined;

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

  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, this.maxSize);
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
}
