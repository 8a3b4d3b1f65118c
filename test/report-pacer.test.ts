// Progress reports are signals, and signals are history events: the pacer decides how many a job costs.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_REPORT_PACE, ReportPacer } from '../src/activities/report-pacer';

const POLL_MS = 2_000;
/** A signal adds the signal event and a workflow task's scheduled, started and completed events. */
const EVENTS_PER_SIGNAL = 4;

/** Reports a follower polling every 2 s would send, per hour of the job, over `hours`. */
function reportsPerHour(hours: number, warm = false): number[] {
  const pacer = new ReportPacer(0, DEFAULT_REPORT_PACE, warm);
  const perHour = new Array<number>(hours).fill(0);
  for (let now = 0; now < hours * 3_600_000; now += POLL_MS) {
    if (!pacer.due(now)) continue;
    pacer.reported(now);
    perHour[Math.floor(now / 3_600_000)]++;
  }
  return perHour;
}

describe('progress report pacing', () => {
  it('reports every 10 s while the job warms up, then once a minute', () => {
    const pacer = new ReportPacer(0);
    const times: number[] = [];
    for (let now = 0; now < 7 * 60_000; now += POLL_MS) {
      if (pacer.due(now)) {
        pacer.reported(now);
        times.push(now);
      }
    }
    assert.equal(times[0], 0, 'the first poll reports');
    const warmup = times.filter((t) => t < DEFAULT_REPORT_PACE.warmupMs);
    assert.equal(warmup.length, 30, 'every 10 s for the first 5 minutes');
    const steady = times.filter((t) => t >= DEFAULT_REPORT_PACE.warmupMs);
    assert.deepEqual(steady, [350_000, 410_000], 'then once a minute after the last warm-up report');
  });

  it('a week-long job costs ~240 history events an hour instead of ~1,440', () => {
    const week = reportsPerHour(7 * 24);
    assert.equal(week[0], 30 + 55, 'the first hour: warm-up, then steady');
    for (const hour of week.slice(1)) assert.equal(hour, 60);
    const events = week.reduce((a, b) => a + b, 0) * EVENTS_PER_SIGNAL;
    // Every 10 s, as before: 360 signals an hour.
    const before = 7 * 24 * 360 * EVENTS_PER_SIGNAL;
    assert.ok(events / (7 * 24) <= 245, `${(events / (7 * 24)).toFixed(0)} events an hour`);
    assert.ok(before / events > 5.9, `${before} events before, ${events} now`);
  });

  it('a follower that takes over a running job starts at the steady rate', () => {
    assert.equal(reportsPerHour(1, true)[0], 60);
  });
});
