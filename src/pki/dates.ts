const DAY_MS = 24 * 60 * 60 * 1000;

export function addDays(date: Date, days: number): Date {
  return new Date(date.getTime() + days * DAY_MS);
}

export function addYears(date: Date, years: number): Date {
  const result = new Date(date.getTime());
  result.setUTCFullYear(result.getUTCFullYear() + years);
  return result;
}

export function daysBetween(from: Date, to: Date): number {
  return (to.getTime() - from.getTime()) / DAY_MS;
}

// Certificates start a day in the past so that a container whose clock lags
// the host's a little still accepts them as already valid.
export const BACKDATE_DAYS = 1;

/**
 * The longest life, notBefore to notAfter, of a server certificate meant to
 * work: what a public CA issues today. The CA/Browser Forum's Baseline
 * Requirements allow at most 200 days from 15 March 2026, counting notAfter's
 * own second, so one day less stays within the rule (testssl.sh checks it).
 */
export const SERVER_CERTIFICATE_DAYS = 199;

/** The dates of a server certificate that works from `now` on. */
export function currentServerValidity(now: Date): { notBefore: Date; notAfter: Date } {
  const notBefore = addDays(now, -BACKDATE_DAYS);
  return { notBefore, notAfter: addDays(notBefore, SERVER_CERTIFICATE_DAYS) };
}
