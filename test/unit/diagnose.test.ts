import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { diagnose, formatDiagnosis, NOT_RECOGNISED, scenarioFileText, shippedScenarios, SITUATIONS, type Recognised } from "../../src/diagnose/index.js";
import { loadScenarioText } from "../../src/scenario/load.js";

const fixtures = new URL("../fixtures/diagnose/", import.meta.url);
const read = (path: string) => readFileSync(new URL(path, fixtures), "utf8");

/** Written by scripts/diagnose-corpus.mjs from the shipped scenarios' own runs. */
interface ShippedEntry {
  fixture: string;
  scenario: string;
  file: string;
  outcome: string;
}
const shippedCorpus = JSON.parse(read("shipped/index.json")) as ShippedEntry[];

interface HandwrittenEntry {
  fixture: string;
  situation: string | null;
  detail?: string;
  scenario?: string;
  reportedBy?: string;
  host?: string;
  recipient?: string;
}
const handwrittenCorpus = JSON.parse(read("handwritten/index.json")) as HandwrittenEntry[];

const shipped = await shippedScenarios();

async function recognised(text: string): Promise<Recognised> {
  const diagnosis = await diagnose(text);
  if (!diagnosis.recognised) throw new Error(`not recognised:\n${text}`);
  return diagnosis;
}

/** Refusals that are not about TLS: diagnose must not claim them. */
const NOT_TLS = new Set([
  "No open relay: Alice's provider on port 25 refuses to relay for strangers",
  "No open relay: Bob's provider on port 25 refuses to relay outside iroco.test",
  "Mail to a domain outside the test world never leaves it",
  "Submission without logging in is refused",
  "Own config: iroco.test's sender_access map refuses spammer.test",
]);

describe("diagnose: the shipped scenarios' own evidence", () => {
  it("the corpus covers every shipped scenario a customer would complain about", () => {
    const complaints = [...shipped.values()].filter(
      (scenario) => scenario.expect.outcome !== "delivered" || scenario.expect.transport === "plaintext",
    );
    expect(shippedCorpus.map((entry) => entry.scenario).sort()).toEqual(complaints.map((scenario) => scenario.name).sort());
  });

  for (const entry of shippedCorpus.filter((entry) => !NOT_TLS.has(entry.scenario))) {
    it(`${entry.scenario}: names its own scenario among those that reproduce it`, async () => {
      const diagnosis = await recognised(read(`shipped/${entry.fixture}`));
      expect(diagnosis.reproducedBy).toContain(entry.scenario);
    });
  }

  for (const entry of shippedCorpus.filter((entry) => NOT_TLS.has(entry.scenario))) {
    it(`${entry.scenario}: not a TLS problem`, async () => {
      expect((await diagnose(read(`shipped/${entry.fixture}`))).recognised).toBe(false);
    });
  }
});

describe("diagnose: real-world-shaped bounces and logs", () => {
  for (const entry of handwrittenCorpus) {
    it(`${entry.fixture} → ${entry.situation ?? NOT_RECOGNISED}`, async () => {
      const diagnosis = await diagnose(read(`handwritten/${entry.fixture}`));
      if (entry.situation === null) {
        expect(diagnosis.recognised).toBe(false);
        expect(formatDiagnosis(diagnosis, shipped)).toContain(NOT_RECOGNISED);
        return;
      }
      if (!diagnosis.recognised) throw new Error(`${entry.fixture} not recognised`);
      expect(diagnosis.situation.id).toBe(entry.situation);
      expect(diagnosis.detail?.id).toBe(entry.detail);
      expect(diagnosis.reproducedBy).toContain(entry.scenario);
      expect(diagnosis.facts.reportedBy).toBe(entry.reportedBy);
      expect(diagnosis.facts.remoteHost?.name).toBe(entry.host);
      expect(diagnosis.facts.recipient).toBe(entry.recipient);
    });
  }

  it("quotes the folded Diagnostic-Code as one line", async () => {
    const diagnosis = await recognised(read("handwritten/postfix-dsn-tls-not-offered.eml"));
    expect(diagnosis.shownBy).toContain("Diagnostic-Code: X-Postfix; TLS is required, but was not offered by host mx.example.net[203.0.113.25]");
    expect(diagnosis.facts.remoteHost?.address).toBe("203.0.113.25");
  });

  it("replays the TLS version the customer's hop negotiated, and not one of another hop", async () => {
    const capped = await recognised(read("handwritten/postfix-log-untrusted-issuer.log"));
    expect(capped.facts.tlsVersion).toBe("TLSv1.2");
    expect(capped.failing.receiver?.postconf?.smtpd_tls_protocols).toBe(">=TLSv1.2, <=TLSv1.2");
    expect(capped.fix.expect).toMatchObject({ outcome: "delivered", tls: { version: "TLSv1.2", trust: "verified" } });
    // The DSN's returned headers say TLSv1.3, for Alice's submission, not for the failing hop.
    expect((await recognised(read("handwritten/postfix-dsn-tls-not-offered.eml"))).facts.tlsVersion).toBeUndefined();
  });

  it("does not read the returned message's Received headers as a plaintext delivery", async () => {
    const text = read("handwritten/negative-mailbox-full.eml");
    expect(text).toMatch(/with ESMTP id/);
    expect((await diagnose(text)).recognised).toBe(false);
  });
});

describe("diagnose: Exim and OpenSMTPD as the customer's sender", () => {
  it("names the MTA whose line comes first, the sender's, not the receiver's that follows", async () => {
    const eximToPostfix = await recognised(read("shipped/exim-s-levels-against-postfix-sender-may-receiver-none.txt"));
    expect(eximToPostfix.facts.reportedBy).toBe("Exim");
    const postfixToExim = await recognised(read("shipped/exim-as-bob-s-provider-against-postfix-s-levels-sender-may-receiver-none.txt"));
    expect(postfixToExim.facts.reportedBy).toBe("Postfix");
  });

  it("does not take the TLS version of the hop that brought the message in (Exim's <= line) for the failing hop's", async () => {
    const plaintext = await recognised(read("shipped/exim-s-levels-against-postfix-sender-may-receiver-none.txt"));
    expect(plaintext.facts.tlsVersion).toBeUndefined();
    const delivered = await diagnose(
      "2026-11-30 09:12:41 1tHYf2-000J8a-1Q => bob@example.net R=dnslookup T=remote_smtp H=mx.example.net [203.0.113.25] X=TLS1.2:ECDHE_RSA_AES_256_GCM_SHA384:256 CV=yes",
    );
    expect(delivered.facts.tlsVersion).toBe("TLSv1.2");
  });

  it("writes the case and its fix with Exim as the sender, in Exim's words", async () => {
    const diagnosis = await recognised(read("handwritten/exim-mainlog-dane-tlsa-fail.log"));
    expect(diagnosis.failing.sender).toEqual({ mta: "exim", level: "dane-only" });
    expect(diagnosis.failing.expect).toEqual({ outcome: "bounced", reason: "DANE error: tlsa lookup FAIL" });
    expect(diagnosis.fix.sender).toEqual({ mta: "exim", level: "dane-only" });
    // Exim logs no certificate name: the fix expects the trust it logs (CV=dane), not a peer name.
    expect(diagnosis.fix.expect).toEqual({ outcome: "delivered", transport: "tls", tls: { trust: "verified" } });
    expect(diagnosis.probably.join("\n")).toMatch(/hosts_require_dane/);
    expect(diagnosis.probably.join("\n")).not.toMatch(/smtp_tls_security_level/);
    expect(diagnosis.ask.join("\n")).toMatch(/hosts_require_dane, hosts_try_dane/);
    expect(diagnosis.ask.join("\n")).not.toMatch(/smtp_tls_policy_maps/);
  });

  it("asks for the lines that show TLS in the log of the MTA that delivered in clear text", async () => {
    const opensmtpd = await recognised(read("shipped/opensmtpd-s-levels-against-postfix-sender-may-receiver-none.txt"));
    expect(opensmtpd.ask.join("\n")).toContain("`mta tls ciphers=`");
    const postfix = await recognised(read("handwritten/received-plaintext.txt"));
    expect(postfix.ask.join("\n")).toContain("`TLS connection established`");
  });

  it("writes OpenSMTPD's case with its queue's words, and the fix with the trust OpenSMTPD logs at encrypt", async () => {
    const diagnosis = await recognised(read("handwritten/opensmtpd-log-tls-required.log"));
    expect(diagnosis.failing.sender).toEqual({ mta: "opensmtpd", level: "encrypt" });
    expect(diagnosis.failing.expect).toEqual({ outcome: "deferred", reason: "Network error on destination MXs" });
    expect(diagnosis.fix.expect).toMatchObject({ outcome: "delivered", transport: "tls", tls: { trust: "untrusted" } });
  });

  it("keeps Postfix as the sender where it knows no words of the customer's MTA, and says so in the story", async () => {
    const diagnosis = await recognised(read("handwritten/exim-mainlog-handshake.log"));
    expect(diagnosis.failing.sender?.mta).toBeUndefined();
    expect(scenarioFileText(diagnosis, "case.yaml")).toContain("The customer's sender runs Exim; this case is written with Postfix as the sender");
  });

  it("asks for OpenSMTPD's session line when its queue's summary is all there is", async () => {
    const diagnosis = await diagnose(read("handwritten/negative-opensmtpd-network-error.log"));
    expect(diagnosis.facts.reportedBy).toBe("OpenSMTPD");
    expect(formatDiagnosis(diagnosis, shipped)).toContain('"mta error reason="');
  });
});

describe("diagnose: what it says", () => {
  it("says 'probably' only for what it infers, and nothing probable about a level the input quotes", async () => {
    const guessed = await recognised("status=deferred (TLS is required, but was not offered by host mx.example.net[203.0.113.25])");
    expect(guessed.probably.join("\n")).toMatch(/probably requires TLS/);
    expect(guessed.failing.sender?.postconf?.smtp_tls_security_level).toBe("encrypt");

    const quoted = await recognised(
      "smtp_tls_security_level = secure\nsmtpd_tls_security_level = none\nstatus=deferred (TLS is required, but was not offered by host mx.example.net[203.0.113.25])",
    );
    expect(quoted.probably).toEqual([]);
    expect(quoted.failing.sender?.postconf?.smtp_tls_security_level).toBe("secure");
    expect(quoted.fix.expect).toMatchObject({ outcome: "delivered", tls: { trust: "verified" } });
  });

  it("lists what to ask the customer when the input does not say why", async () => {
    const diagnosis = await recognised("Cannot start TLS: handshake failure");
    expect(diagnosis.detail).toBeUndefined();
    expect(diagnosis.ask.length).toBeGreaterThan(0);
    expect(formatDiagnosis(diagnosis, shipped)).toMatch(/Ask the customer for:\n {2}- the receiving server's log/);
  });

  it("prints the stories of the scenarios and the fix beside them", async () => {
    const output = formatDiagnosis(await recognised(read("handwritten/postfix-dsn-tls-not-offered.eml")), shipped);
    expect(output).toContain("✗ Founding story: Alice's provider requires TLS, Bob's provider offers none  (scenarios/founding-story.yaml)");
    expect(output).toContain("✓ Founding story, fixed: Bob's provider offers STARTTLS  (scenarios/founding-story.yaml)");
    expect(output).toContain("Alice writes to Bob.");
  });
});

describe("diagnose: the catalogue", () => {
  it("names only scenarios that are shipped", () => {
    const named = SITUATIONS.flatMap((situation) => [
      ...situation.reproducedBy,
      ...situation.fixedBy,
      ...(situation.details ?? []).flatMap((detail) => detail.reproducedBy),
    ]);
    expect(named.filter((name) => !shipped.has(name))).toEqual([]);
  });

  it("reproduces with failing scenarios and fixes with passing deliveries", () => {
    for (const situation of SITUATIONS) {
      for (const name of situation.reproducedBy) expect(shipped.get(name)?.expect, name).not.toMatchObject({ outcome: "delivered", transport: "tls" });
      for (const name of situation.fixedBy) expect(shipped.get(name)?.expect, name).toMatchObject({ outcome: "delivered", transport: "tls" });
    }
  });

  it("writes, for every situation and detail, a case and its fix the scenario loader accepts", async () => {
    const inputs = [
      ...handwrittenCorpus.filter((entry) => entry.situation !== null).map((entry) => read(`handwritten/${entry.fixture}`)),
      ...shippedCorpus.filter((entry) => !NOT_TLS.has(entry.scenario)).map((entry) => read(`shipped/${entry.fixture}`)),
    ];
    const written = new Set<string>();
    for (const input of inputs) {
      const diagnosis = await recognised(input);
      const scenarios = loadScenarioText(scenarioFileText(diagnosis, "case.yaml"), "case.yaml");
      expect(scenarios.map((scenario) => scenario.expect.outcome)).toEqual([diagnosis.failing.expect.outcome, "delivered"]);
      written.add(`${diagnosis.situation.id}/${diagnosis.detail?.id ?? ""}`);
    }
    expect(new Set([...written].map((key) => key.split("/")[0]))).toEqual(new Set(SITUATIONS.map((situation) => situation.id)));
  });

  it("keeps the customer's words apart from its guesses in the written story", async () => {
    const text = scenarioFileText(await recognised(read("handwritten/exim-bounce-tls-not-offered.eml")), "case.yaml");
    expect(text).toContain("# The customer's mx.example.net is played by the world's mx.iroco.test.");
    expect(text).toMatch(/Read from the customer's input:\n(?:\s+- .*\n)*\s+- "Diagnostic-Code: X-str; a TLS session is required, but the server did not offer TLS support"/);
    expect(text).toMatch(/Probably \(not in the input, check with the customer\):\n\s+- the sending server probably requires TLS .*hosts_require_tls/);
  });
});
