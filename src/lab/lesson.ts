/**
 * The guided lesson: the founding support case and its fix, then stripping,
 * then DANE and MTA-STS. Each step is a set of choices and a short text; the
 * prediction in each preset is what the shipped scenarios (scenarios/*.yaml)
 * prove, so a learner who sends it sees the verdict hold.
 */
import { labChoicesSchema, type LabChoices } from "./choices.js";

export interface LessonStep {
  title: string;
  text: string;
  choices: LabChoices;
}

type Preset = Partial<Omit<LabChoices, "release">>;

const step = (title: string, text: string, preset: Preset): LessonStep => ({ title, text, choices: labChoicesSchema.parse(preset) });

export const LESSON: readonly LessonStep[] = [
  step(
    "1. The support case that started it all",
    "Alice's provider requires TLS (encrypt); Bob's provider offers none. Alice's mail does not arrive and nobody tells her why: the sender holds it in its queue.",
    { senderLevel: "encrypt", receiverLevel: "none", prediction: "deferred" },
  ),
  step(
    "2. The fix",
    "Bob's provider turns STARTTLS on (may). The same message now crosses the port-25 hop encrypted: look at the green band in the diagram and at what the eavesdropper saw.",
    { senderLevel: "encrypt", receiverLevel: "may", prediction: "delivered-tls" },
  ),
  step(
    "3. Stripping STARTTLS against an opportunistic sender",
    "An attacker on the wire removes STARTTLS from Bob's provider's answer. A 'may' sender cannot tell the difference and sends in clear text: the body crosses readable.",
    { senderLevel: "may", receiverLevel: "may", wire: "strip-starttls", prediction: "delivered-plaintext" },
  ),
  step(
    "4. Stripping against a sender that requires TLS",
    "Same attack, but the sender requires TLS (encrypt). It refuses to talk in clear text: the mail waits in the queue instead of leaking.",
    { senderLevel: "encrypt", receiverLevel: "may", wire: "strip-starttls", prediction: "deferred" },
  ),
  step(
    "5. DANE: the key is published in signed DNS",
    "Bob's provider publishes a TLSA record of its key in a DNSSEC-signed zone; the sender uses level dane. Look at the DNS lookups: MX, then TLSA. The session is verified by the record, not by a CA.",
    { senderLevel: "dane", receiverLevel: "may", tlsa: "auto", prediction: "delivered-tls" },
  ),
  step(
    "6. DANE against stripping",
    "With a TLSA record published, the DANE sender knows TLS must be there: stripping STARTTLS only delays the mail.",
    { senderLevel: "dane", receiverLevel: "may", tlsa: "auto", wire: "strip-starttls", prediction: "deferred" },
  ),
  step(
    "7. MTA-STS in enforce mode",
    "No DNSSEC needed: Bob's provider publishes an MTA-STS policy over HTTPS. Even a 'may' sender then insists on TLS with a valid certificate, so stripping fails. Look for the policy fetch among the DNS lookups.",
    { senderLevel: "may", receiverLevel: "may", mtaSts: "enforce", wire: "strip-starttls", prediction: "deferred" },
  ),
  step(
    "8. MTA-STS in testing mode",
    "In testing mode the policy only reports: the stripped message is delivered in clear text, and the lab flags that the published policy did not protect it.",
    { senderLevel: "may", receiverLevel: "may", mtaSts: "testing", wire: "strip-starttls", prediction: "delivered-plaintext" },
  ),
];
