/**
 * From what a customer sent to the TLS situation it shows: the first
 * situation of the catalogue whose wording appears, the detail that narrows
 * it, what the text states and what is only inferred, and the scenario
 * documents to reproduce it and its fix. Pure: reads text, starts nothing.
 */
import { readCustomerText } from "./customerText.js";
import { readFacts, type Facts } from "./facts.js";
import { asSentBy } from "./otherSender.js";
import { askedOf, SITUATIONS, type Detail, type DraftDocument, type Drafts, type Situation } from "./situations.js";

export interface Recognised {
  recognised: true;
  situation: Situation;
  detail?: Detail;
  facts: Facts;
  /** The input's lines that show the situation, as written. */
  shownBy: string[];
  /** Inferences, each to be said as "probably". */
  probably: string[];
  /** In the words of the MTA that wrote the text, where the situation has them. */
  ask: readonly string[];
  /** Shipped scenarios reproducing the failure (narrowed by the detail when there is one), and the fix beside it. */
  reproducedBy: readonly string[];
  fixedBy: readonly string[];
  /** Other situations the input also shows (a retry after a failed handshake…). */
  alsoShows: Situation[];
  failing: DraftDocument;
  fix: DraftDocument;
}

export interface NotRecognised {
  recognised: false;
  facts: Facts;
}

export type Diagnosis = Recognised | NotRecognised;

function applies(situation: Situation, text: string): boolean {
  if (situation.excludedBy?.test(text)) return false;
  if (situation.context && !situation.context.test(text)) return false;
  return situation.wordings.some((wording) => wording.test(text));
}

function linesShowing(situation: Situation, text: string): string[] {
  return text
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => situation.wordings.some((wording) => wording.test(line)));
}

/**
 * The customer's hop negotiated this version: the world's receiver is capped
 * at it (it speaks TLS 1.3 otherwise), and the fix expects it.
 */
function atVersion(drafts: Drafts, version: string | undefined): Drafts {
  // OpenSSL 3 in the world refuses TLS 1.0 and 1.1 at its default security level: those cannot be replayed as they were.
  if ((version !== "TLSv1.2" && version !== "TLSv1.3") || drafts.fix.expect.outcome !== "delivered" || drafts.fix.expect.transport !== "tls") return drafts;
  const capped = (document: DraftDocument): DraftDocument =>
    version === "TLSv1.3" || document.receiver?.postconf?.smtpd_tls_protocols !== undefined
      ? document
      : { ...document, receiver: { ...document.receiver, postconf: { ...document.receiver?.postconf, smtpd_tls_protocols: `>=${version}, <=${version}` } } };
  const fix = capped(drafts.fix);
  return { failing: capped(drafts.failing), fix: { ...fix, expect: { ...drafts.fix.expect, tls: { ...drafts.fix.expect.tls, version } } } };
}

export async function diagnose(raw: string): Promise<Diagnosis> {
  const input = await readCustomerText(raw);
  const facts = readFacts(input);
  const [situation, ...alsoShows] = SITUATIONS.filter((candidate) => applies(candidate, input.text));
  if (!situation) return { recognised: false, facts };
  const detail = situation.details?.find((candidate) => candidate.wording.test(input.text));
  const { failing, fix } = atVersion(asSentBy(situation, facts, situation.draft(facts, detail)), facts.tlsVersion);
  return {
    recognised: true,
    situation,
    ...(detail ? { detail } : {}),
    facts,
    shownBy: [...new Set(linesShowing(situation, input.text))],
    probably: situation.probably(facts),
    ask: situation.ask.map((ask) => askedOf(facts, ask)),
    reproducedBy: detail?.reproducedBy ?? situation.reproducedBy,
    fixedBy: situation.fixedBy,
    // A situation that is the same failure seen through a narrower lens (certificate vs DANE) adds nothing.
    alsoShows: alsoShows.filter((other) => other.reproducedBy.some((name) => !situation.reproducedBy.includes(name))),
    failing,
    fix,
  };
}
