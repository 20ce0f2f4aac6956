/**
 * A world that stays up, driven through the command line in separate
 * processes (up, apply, send, status, clean, down) and probed with tools
 * nobody here wrote: Debian's swaks from this machine, Postfix's
 * posttls-finger from inside the sender. For every applied state, what they
 * report (STARTTLS offered, version, cipher, certificate name, verification)
 * must agree with what the harness observes when Alice sends in that state.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Observation } from "../../src/observe/types.js";
import { loadScenarioFiles } from "../../src/scenario/load.js";
import type { Scenario } from "../../src/scenario/types.js";
import { hostedDomains, PROVIDERS } from "../../src/world/providers.js";
import { readPosttlsFinger, readSwaks, runTool, type FingerReport, type SwaksStartTls } from "./helpers/adminTools.js";
import { runCli } from "./helpers/cli.js";

const STATES = "test/fixtures/scenarios/up/probed-states.yaml";
/** A name of its own, so a developer's default world is neither reused nor removed. */
const WORLD = `e2e-${process.pid}`;
const CA_IN_SENDER = "/etc/starttls-lab/tls/ca.pem";

/** What `up` printed for a user to paste, read back: the test reaches the world only through it. */
interface Printed {
  submissionsPort: string;
  wirePort: string;
  caFile: string;
  alicePassword: string;
  senderContainer: string;
}

function field(stdout: string, pattern: RegExp, what: string): string {
  const match = pattern.exec(stdout);
  if (!match) throw new Error(`up did not print ${what}:\n${stdout}`);
  return match[1]!;
}

function readUp(stdout: string): Printed {
  return {
    submissionsPort: field(stdout, /Alice's submission.*127\.0\.0\.1:(\d+)$/m, "Alice's submission port"),
    wirePort: field(stdout, /Bob's port 25 through the wire.*127\.0\.0\.1:(\d+)$/m, "the receiver's port 25"),
    caFile: field(stdout, /^CA \(the only trust anchor\): (\S+)$/m, "the CA file"),
    alicePassword: field(stdout, new RegExp(`^  ${PROVIDERS.sender.mailbox}  (\\S+)$`, "m"), "Alice's password"),
    senderContainer: field(stdout, /docker exec (\S+) postqueue -p$/m, "the sender's container"),
  };
}

let printed: Printed;

beforeAll(async () => {
  const up = await runCli(["up", "--name", WORLD]);
  if (up.code !== 0) throw new Error(`up failed (exit ${up.code}):\n${up.stderr}${up.stdout}`);
  console.log(up.stdout);
  printed = readUp(up.stdout);
});

afterAll(async () => {
  const down = await runCli(["down", "--name", WORLD]);
  console.log(down.stdout);
});

describe("the world outlives the command that started it", () => {
  test("a second up for the same name says one is running and starts nothing", async () => {
    const again = await runCli(["up", "--name", WORLD]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain(`world "${WORLD}" is already up`);
  });

  test("clean (runs whose process died) leaves it alone; status then still finds all of it", async () => {
    const clean = await runCli(["clean"]);
    expect(clean.code).toBe(0);
    expect(clean.stdout).not.toContain(WORLD);
    const status = await runCli(["status", "--name", WORLD]);
    expect(status.code).toBe(0);
    expect(readUp(status.stdout)).toEqual(printed);
  });

  test("swaks authenticates as Alice over 465, verifying the sender's certificate against the printed CA; a wrong password is refused", async () => {
    const auth = (password: string) =>
      runTool("swaks", [
        "--server", `127.0.0.1:${printed.submissionsPort}`, "--tls-on-connect", "--tls-verify", "--tls-ca-path", printed.caFile,
        "--tls-sni", PROVIDERS.sender.smtpHost, "--auth", "PLAIN", "--auth-user", PROVIDERS.sender.mailbox, "--auth-password", password,
        "--quit-after", "AUTH",
      ]);
    const right = await auth(printed.alicePassword);
    expect(right.output, right.output).toMatch(/^=== TLS peer DN="[^"]*CN=smtp\.infomaniak\.test/m);
    expect(right.output, right.output).toMatch(/^<~\s+235 /m);
    const wrong = await auth(`${printed.alicePassword}-not`);
    expect(wrong.output, wrong.output).toMatch(/^<~\*\s+535 /m);
  });

  test("send prints what happened for people: the outcome, then each evidence line as its witness wrote it", async () => {
    const send = await runCli(["send", "--name", WORLD]);
    expect(send.code, send.stderr).toBe(0);
    expect(send.stdout).toMatch(/^observed: delivered over TLS/m);
    expect(send.stdout).toMatch(/^ {2}.*postfix\/smtp\[\d+\]: .*status=sent/m);
    expect(send.stdout).not.toContain("[object Object]");
  });
});

const states = await loadScenarioFiles([STATES]);

/** The MX name of the domain a scenario's message goes to. */
function recipientMx(scenario: Scenario): string {
  const domain = scenario.message.to.split("@")[1];
  const hosted = hostedDomains(PROVIDERS.receiver).find((candidate) => candidate.domain === domain);
  if (!hosted) throw new Error(`${scenario.message.to} is not hosted by the receiver`);
  return hosted.smtpHost;
}

describe.each(states.map((scenario) => [scenario.name, scenario] as const))("%s", (_name, scenario) => {
  const level = scenario.sender.postconf.smtp_tls_security_level ?? "may";
  const sendsSni = scenario.sender.postconf.smtp_tls_servername === "hostname";
  const mx = recipientMx(scenario);
  let observation: Observation;
  const swaks = new Map<string, SwaksStartTls>();
  const finger = new Map<string, FingerReport>();

  beforeAll(async () => {
    const apply = await runCli(["apply", STATES, "--only", scenario.name, "--name", WORLD]);
    if (apply.code !== 0) throw new Error(`apply failed (exit ${apply.code}):\n${apply.stderr}${apply.stdout}`);
    for (const hosted of hostedDomains(PROVIDERS.receiver)) {
      const probe = await runTool("swaks", [
        "--server", `127.0.0.1:${printed.wirePort}`, "--tls", "--tls-verify", "--tls-ca-path", printed.caFile, "--tls-sni", hosted.smtpHost, "--quit-after", "TLS",
      ]);
      swaks.set(hosted.smtpHost, readSwaks(probe.output));
      for (const probeLevel of ["may", "verify"]) {
        // -s: the SNI the sender's Postfix sends in this state (smtp_tls_servername = hostname names the MX host).
        const run = await runTool("docker", [
          "exec", printed.senderContainer, "posttls-finger", "-l", probeLevel, "-F", CA_IN_SENDER, ...(sendsSni ? ["-s", hosted.smtpHost] : []), hosted.domain,
        ]);
        finger.set(`${probeLevel} ${hosted.smtpHost}`, readPosttlsFinger(run.output));
      }
    }
    const send = await runCli(["send", "--json", "--name", WORLD]);
    const sent = JSON.parse(send.stdout) as { observation?: Observation; error?: string };
    if (!sent.observation) throw new Error(`send observed nothing: ${sent.error}`);
    observation = sent.observation;
    console.log(scenario.name, JSON.stringify({ observation: { ...observation, evidence: undefined, wire: undefined }, swaks: [...swaks], finger: [...finger] }));
  });

  test("every MX name offers STARTTLS exactly when the harness saw the message go over TLS (or be refused over it)", () => {
    const harnessSawStartTls = observation.transport !== "plaintext";
    for (const [name, probe] of swaks) expect(probe.offered, `swaks ${name}`).toBe(harnessSawStartTls);
    for (const [name, probe] of finger) expect(probe.offered, `posttls-finger ${name}`).toBe(harnessSawStartTls);
  });

  test(`posttls-finger at ${level}, for the recipient's MX, reports what the sender's Postfix did`, () => {
    const mirror = finger.get(`${level} ${mx}`)!;
    if (observation.tls) {
      expect({ trust: mirror.trust?.toLowerCase(), version: mirror.version, cipher: mirror.cipher, name: mirror.subjectCN }).toEqual({
        trust: observation.tls.trust,
        version: observation.tls.version,
        cipher: observation.tls.cipher,
        name: observation.tls.peerName,
      });
    } else if (observation.transport === "plaintext") {
      expect(mirror.trust).toBeUndefined();
    } else {
      // The sender refused the certificate: the harness says why, posttls-finger must not call it verified.
      expect(observation.reason).toMatch(/Server certificate not verified/);
      expect(mirror.trust).not.toBe("Verified");
      expect(mirror.verificationFailure).toBeDefined();
    }
  });

  test("swaks (SNI, certificate verified against the CA) and posttls-finger at verify agree on the certificate, and with a verify sender", () => {
    const tlsVersion = observation.tls?.version;
    for (const hosted of hostedDomains(PROVIDERS.receiver)) {
      const byHand = swaks.get(hosted.smtpHost)!;
      const atVerify = finger.get(`verify ${hosted.smtpHost}`)!;
      if (!byHand.offered) continue;
      // Accepted by swaks (chain and name under SNI) ⇔ Verified by posttls-finger, when posttls-finger sent the same SNI.
      if (sendsSni) expect(byHand.failure === undefined, `${hosted.smtpHost}: swaks ${byHand.failure ?? "verified"}, posttls-finger ${atVerify.trust}`).toBe(atVerify.trust === "Verified");
      if (byHand.failure === undefined && sendsSni) expect(byHand.peerCN).toBe(atVerify.subjectCN);
      if (tlsVersion && byHand.version) expect(byHand.version).toBe(tlsVersion);
    }
    if (level === "verify") {
      const atVerify = finger.get(`verify ${mx}`)!;
      expect(atVerify.trust === "Verified").toBe(observation.tls?.trust === "verified");
    }
  });
});

test("down removes the world; status then says none is up", async () => {
  const down = await runCli(["down", "--name", WORLD]);
  expect(down.code).toBe(0);
  expect(down.stdout).toMatch(new RegExp(`world "${WORLD}" is down: removed 4 container\\(s\\) and 1 network\\(s\\)`));
  const status = await runCli(["status", "--name", WORLD]);
  expect(status.code).toBe(2);
  expect(status.stderr).toContain(`no world named "${WORLD}" is up`);
});
