import { Piscina, type PiscinaTask, type TaskQueue } from 'piscina';

type Task = PiscinaTask;

/** Marks a task for the urgent lane: `{ ...task, [Piscina.queueOptionsSymbol]: URGENT }`. */
export const URGENT = Object.freeze({ lane: 'urgent' });

/** A FIFO with O(1) shift (an array with a moving head), compacted once half of it is spent. */
class Fifo {
  private items: Array<Task | undefined> = [];
  private head = 0;

  get size(): number {
    return this.items.length - this.head;
  }

  push(task: Task): void {
    this.items.push(task);
  }

  unshift(task: Task): void {
    if (this.head > 0) this.items[--this.head] = task;
    else this.items.unshift(task);
  }

  shift(): Task | null {
    if (this.head >= this.items.length) return null;
    const task = this.items[this.head] as Task;
    this.items[this.head++] = undefined;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return task;
  }

  remove(task: Task): boolean {
    const at = this.items.indexOf(task, this.head);
    if (at === -1) return false;
    this.items.splice(at, 1);
    return true;
  }
}

/**
 * Piscina's queue of tasks waiting for a thread, in two lanes: urgent tasks (checking an answer
 * that is already paid for, so its job can finish) go before the rest (rendering the prompt of
 * a job that has not been admitted yet). Under a backlog of renders, a FIFO would hold a paid
 * answer behind thousands of jobs that are not yet waiting on anything.
 */
export class TwoLaneTaskQueue implements TaskQueue {
  private readonly urgent = new Fifo();
  private readonly normal = new Fifo();

  get size(): number {
    return this.urgent.size + this.normal.size;
  }

  private laneOf(task: Task): Fifo {
    return (task as unknown as Record<symbol, unknown>)[Piscina.queueOptionsSymbol] === URGENT ? this.urgent : this.normal;
  }

  push(task: Task): void {
    this.laneOf(task).push(task);
  }

  /** Piscina puts back a task it took but could not hand to a thread: it goes first again. */
  unshift(task: Task): void {
    this.laneOf(task).unshift(task);
  }

  shift(): Task | null {
    return this.urgent.shift() ?? this.normal.shift();
  }

  remove(task: Task): void {
    if (!this.laneOf(task).remove(task)) throw new Error('TwoLaneTaskQueue.remove: task not queued');
  }
}
