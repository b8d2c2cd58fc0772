export interface ReceivedMessage {
  messageId: string;
  receipt: string;
  body: string;
  receiveCount: number;
}

/** One partition's queue, as the partition actor sees it. Deletes and visibility changes batch. */
export interface PartitionQueue {
  receive(max: number, waitSeconds: number, signal?: AbortSignal): Promise<ReceivedMessage[]>;
  delete(receipt: string): Promise<void>;
  /** Hides (or with 0, returns) messages; entries are batched with other calls. */
  changeVisibility(receipt: string, seconds: number): Promise<void>;
  send(body: string, delaySeconds?: number): Promise<void>;
  /** Sends what is buffered now; safe to call at any time. */
  flush(): Promise<void>;
}

export type DeadLetterKind = 'transient' | 'permanent';

/** The two dead-letter queues: transient (safe to replay) and permanent (needs a person). */
export interface DeadLetterSink {
  send(kind: DeadLetterKind, body: string, reason: { code: string; message: string }): Promise<void>;
}
