import { readFileSync } from 'node:fs';

/** A systemd unit file as sections of (key, value) pairs, repeated keys kept in order. */
export type UnitFile = Map<string, Array<[string, string]>>;

export function parseUnitFile(path: string): UnitFile {
  const sections: UnitFile = new Map();
  let current: Array<[string, string]> | undefined;
  for (const raw of readFileSync(path, 'utf8').split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      current = [];
      sections.set(header[1] as string, current);
      continue;
    }
    const eq = line.indexOf('=');
    if (!current || eq < 0) throw new Error(`${path}: cannot parse '${line}'`);
    current.push([line.slice(0, eq).trim(), line.slice(eq + 1).trim()]);
  }
  return sections;
}

/** Every value of `key` in `section`, in order. */
export function values(unit: UnitFile, section: string, key: string): string[] {
  return (unit.get(section) ?? []).filter(([k]) => k === key).map(([, v]) => v);
}

/** The effective (last) value of `key`, or undefined. */
export function value(unit: UnitFile, section: string, key: string): string | undefined {
  return values(unit, section, key).at(-1);
}

/** systemd time span ("90", "90s", "2min", "1min 30s") in seconds. */
export function seconds(span: string): number {
  let total = 0;
  const units: Record<string, number> = { '': 1, s: 1, sec: 1, m: 60, min: 60, h: 3600, ms: 0.001 };
  for (const match of span.matchAll(/(\d+(?:\.\d+)?)\s*([a-z]*)/g)) {
    const unit = units[match[2] ?? ''];
    if (unit === undefined) throw new Error(`unknown time unit in '${span}'`);
    total += Number(match[1]) * unit;
  }
  return total;
}
