import type { Metrics } from '../metrics.ts';

interface Series {
  name: string;
  unit: 'Count' | 'Milliseconds';
  /** Counters are summed per flush; timings and gauges keep their observations. */
  summed: boolean;
  dimensions: Record<string, string>;
  sum: number;
  values: number[];
}

/** CloudWatch keeps at most 100 values of one metric per EMF document. */
const MAX_VALUES = 100;

/**
 * Metrics as CloudWatch Embedded Metric Format lines: aggregated in memory and written as one
 * JSON document per (dimension set) per flush, which the CloudWatch agent ships. Counting in
 * memory keeps the hot path free of I/O.
 */
export class EmfMetrics implements Metrics {
  private series = new Map<string, Series>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly write: (line: string) => void,
    private readonly options: { namespace: string; service: string; flushIntervalMs: number },
  ) {
    if (options.flushIntervalMs > 0) {
      this.timer = setInterval(() => this.flush(), options.flushIntervalMs);
      this.timer.unref();
    }
  }

  private entry(name: string, unit: Series['unit'], dimensions: Record<string, string> = {}, summed = unit === 'Count'): Series {
    const key = `${name}|${JSON.stringify(dimensions)}`;
    let series = this.series.get(key);
    if (!series) {
      series = { name, unit, summed, dimensions, sum: 0, values: [] };
      this.series.set(key, series);
    }
    return series;
  }

  count(name: string, value = 1, dimensions?: Record<string, string>): void {
    this.entry(name, 'Count', dimensions).sum += value;
  }

  timing(name: string, milliseconds: number, dimensions?: Record<string, string>): void {
    const series = this.entry(name, 'Milliseconds', dimensions);
    if (series.values.length < MAX_VALUES) series.values.push(Math.round(milliseconds));
  }

  gauge(name: string, value: number, dimensions?: Record<string, string>): void {
    const series = this.entry(name, 'Count', dimensions, false);
    if (series.values.length < MAX_VALUES) series.values.push(value);
  }

  flush(): void {
    const now = Date.now();
    for (const series of this.series.values()) {
      const dimensionNames = ['Service', ...Object.keys(series.dimensions)];
      this.write(
        JSON.stringify({
          _aws: {
            Timestamp: now,
            CloudWatchMetrics: [
              {
                Namespace: this.options.namespace,
                Dimensions: [dimensionNames],
                Metrics: [{ Name: series.name, Unit: series.unit }],
              },
            ],
          },
          Service: this.options.service,
          ...series.dimensions,
          [series.name]: series.summed ? series.sum : series.values,
        }),
      );
    }
    this.series.clear();
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.flush();
  }
}
