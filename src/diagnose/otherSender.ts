/**
 * The customer's own MTA as the sender of the written scenarios: when the
 * text is Exim's or OpenSMTPD's and the situation knows that MTA's words
 * (Situation.failingAs), the level moves from Postfix's postconf to
 * `sender.level`, the failing case expects that MTA's text and the fix the
 * trust that MTA logs. Otherwise the drafts stay Postfix's, and the failing
 * story says why, so nobody mistakes them for a replay of the customer's MTA.
 */
import type { Trust } from "../scenario/types.js";
import { isSenderLevel, type SenderLevel } from "../scenario/levels.js";
import { unsupportedLevel } from "../scenario/mtaChoice.js";
import type { Facts } from "./facts.js";
import { OTHER_SENDERS, otherSender, type DraftDocument, type Drafts, type OtherSenderMta, type Situation } from "./situations.js";

const LEVEL_PARAMETER = "smtp_tls_security_level";

/**
 * What each MTA logs of a valid certificate at a level, as scenarios/interop.yaml
 * measured it: Exim checks chain and name even when it does not enforce them
 * (CV=yes), OpenSMTPD checks nothing it was not told to.
 */
const TRUST_OF_A_VALID_CERTIFICATE: Readonly<Record<OtherSenderMta, (level: SenderLevel) => Trust>> = {
  exim: () => "verified",
  opensmtpd: (level) => (level === "verify" ? "verified" : "untrusted"),
};

/** Why a document cannot be written for the MTA, or undefined when it can. */
function whyPostfixOnly(document: DraftDocument, mta: OtherSenderMta): string | undefined {
  const { postfix, postconf = {} } = document.sender ?? {};
  if (postfix !== undefined) return `the case needs Postfix ${postfix}`;
  const own = Object.keys(postconf).filter((name) => name !== LEVEL_PARAMETER);
  if (own.length > 0) return `${own.join(", ")} ${own.length === 1 ? "is" : "are"} Postfix's own`;
  const level = postconf[LEVEL_PARAMETER];
  if (level === undefined) return undefined;
  if (!isSenderLevel(level)) return `the level ${level} is Postfix's only`;
  return unsupportedLevel(mta, "sender", level);
}

function sentBy(document: DraftDocument, mta: OtherSenderMta): DraftDocument {
  const written = document.sender?.postconf?.[LEVEL_PARAMETER];
  const level = written !== undefined && isSenderLevel(written) ? written : undefined;
  const { expect } = document;
  return {
    ...document,
    sender: { mta, ...(level ? { level } : {}) },
    // The certificate's name is not in Exim's or OpenSMTPD's log lines: only the trust is expected.
    expect:
      expect.outcome === "delivered" && expect.transport === "tls"
        ? { ...expect, tls: { ...(expect.tls?.version ? { version: expect.tls.version } : {}), trust: TRUST_OF_A_VALID_CERTIFICATE[mta](level ?? "may") } }
        : expect,
  };
}

export function asSentBy(situation: Situation, facts: Facts, drafts: Drafts): Drafts {
  const name = otherSender(facts);
  if (name === undefined) return drafts;
  const mta = OTHER_SENDERS[name];
  const failingExpect = situation.failingAs?.[name];
  const why =
    failingExpect === undefined
      ? `what ${name} writes in this situation is not measured by a shipped scenario`
      : (whyPostfixOnly(drafts.failing, mta) ?? whyPostfixOnly(drafts.fix, mta));
  if (why !== undefined || failingExpect === undefined) {
    const note = `The customer's sender runs ${name}; this case is written with Postfix as the sender: ${why}.`;
    return { ...drafts, failing: { ...drafts.failing, story: [drafts.failing.story, note].filter(Boolean).join("\n") } };
  }
  return { failing: { ...sentBy(drafts.failing, mta), expect: failingExpect }, fix: sentBy(drafts.fix, mta) };
}
