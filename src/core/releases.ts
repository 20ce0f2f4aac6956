/**
 * The Postfix releases a world can run, each tied to the Debian release that
 * ships it. A provider image is built per release, only when a run uses it.
 */
export const POSTFIX_RELEASES = ["3.7", "3.10", "3.11"] as const;
export type PostfixRelease = (typeof POSTFIX_RELEASES)[number];

/** What most users run now: Debian 13 (stable). */
export const DEFAULT_POSTFIX_RELEASE: PostfixRelease = "3.10";

export interface DebianRelease {
  /** Debian's codename, also the base image's name: starttls-lab/<suite>:base. */
  suite: "bookworm" | "trixie" | "forky";
  /** How Debian calls it today. */
  status: "oldstable" | "stable" | "testing";
}

export const DEBIAN_RELEASE_OF: Readonly<Record<PostfixRelease, DebianRelease>> = {
  "3.7": { suite: "bookworm", status: "oldstable" },
  "3.10": { suite: "trixie", status: "stable" },
  "3.11": { suite: "forky", status: "testing" },
};

export function isPostfixRelease(value: string): value is PostfixRelease {
  return (POSTFIX_RELEASES as readonly string[]).includes(value);
}

/**
 * The release a world runs when its options name none: STARTTLS_LAB_POSTFIX
 * (e.g. STARTTLS_LAB_POSTFIX=3.7 npx vitest run test/e2e/dns.test.ts, or
 * before `starttls-lab run`) while there is no command-line option for it,
 * otherwise DEFAULT_POSTFIX_RELEASE.
 */
export function chosenPostfixRelease(environment: NodeJS.ProcessEnv = process.env): PostfixRelease {
  const named = environment.STARTTLS_LAB_POSTFIX;
  if (named === undefined || named === "") return DEFAULT_POSTFIX_RELEASE;
  if (!isPostfixRelease(named)) {
    throw new Error(`STARTTLS_LAB_POSTFIX=${named} is not a Postfix release the world can run (known: ${POSTFIX_RELEASES.join(", ")})`);
  }
  return named;
}
