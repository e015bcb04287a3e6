import { cpus, loadavg, totalmem } from 'node:os';
import { readFileSync } from 'node:fs';

/** Nearest-rank percentile (p in 0..100) of `xs`; NaN for an empty list. */
export function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? NaN;
}

export const median = (xs: readonly number[]) => percentile(xs, 50);

export interface Summary {
  n: number;
  median: number;
  p95: number;
  max: number;
  min: number;
}

export function summarize(xs: readonly number[]): Summary {
  return { n: xs.length, median: median(xs), p95: percentile(xs, 95), max: Math.max(...xs), min: Math.min(...xs) };
}

/** The 1-minute load average (what `uptime` prints first), with two decimals. */
export function load1(): number {
  return Math.round(loadavg()[0]! * 100) / 100;
}

/** Load averages seen over a section: at its start, at its end and the highest in between (sampled every 5 s). */
export class LoadSampler {
  private readonly samples: number[] = [load1()];
  private readonly timer = setInterval(() => this.samples.push(load1()), 5000);

  constructor() {
    this.timer.unref();
  }

  stop(): LoadReading {
    clearInterval(this.timer);
    this.samples.push(load1());
    return { start: this.samples[0]!, end: this.samples.at(-1)!, max: Math.max(...this.samples) };
  }
}

export interface LoadReading {
  start: number;
  end: number;
  max: number;
}

export interface MachineInfo {
  cpus: number;
  model: string;
  memoryGiB: number;
  node: string;
  moto: string;
  kernel: string;
}

export function machineInfo(motoVersion: string): MachineInfo {
  let kernel: string;
  try {
    kernel = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
  } catch {
    kernel = 'unknown';
  }
  return {
    cpus: cpus().length,
    model: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    moto: motoVersion,
    kernel,
  };
}

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat (Linux). */
export function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may contain spaces) start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15)
  return ticks / 100; // USER_HZ is 100 on Linux
}

export const ms = (x: number) => `${Math.round(x)} ms`;
export const s1 = (x: number) => `${x.toFixed(1)} s`;
