/** The verdict contract: one scenario's expectation compared with its observation. */
export interface Difference {
  /** Dotted field, e.g. "outcome", "tls.trust", "reason". */
  field: string;
  expected: string;
  observed: string;
}

export interface Verdict {
  passed: boolean;
  differences: Difference[];
}
