/**
 * TLSRPT (RFC 8460) as Alice's provider reported it, from its two witnesses
 * in the sender's container log:
 * - the datagrams libtlsrpt sent to the harness's collector
 *   (docker/mta/lab-tlsrpt-collector), one line each:
 *   `starttls-lab tlsrpt: {"d": "iroco.test","pr": "v=TLSRPTv1; …","policies":[…]}`;
 * - the line Postfix 3.10 logs for the same handshake:
 *   `postfix/smtp[281]: TLSRPT: status=failure, domain=iroco.test, receiving_mx=mx.iroco.test[172.24.0.3], failure_type=certificate_host_mismatch`.
 * Pure: lines in, events out. The datagram's format is libtlsrpt's own
 * (libtlsrpt.c, 0.5.0: short keys, numeric policy types and failure codes);
 * test/fixtures/tlsrpt/ holds datagrams captured from the real 3.10 sender.
 */
import { z } from "zod";
import type { TlsrptEvent, TlsrptPolicyType, TlsrptResult } from "./types.js";

/** How the collector starts each line it writes to the container's log. */
export const COLLECTOR_PREFIX = "starttls-lab tlsrpt: ";
/** The collector's first line, written once it listens (only where Postfix has TLSRPT). */
export const COLLECTOR_LISTENING = `${COLLECTOR_PREFIX}collector listening on `;

/** tlsrpt.h's tlsrpt_policy_type_t. */
const POLICY_TYPES: Readonly<Record<number, TlsrptPolicyType>> = { 1: "tlsa", 2: "sts", 9: "no-policy-found" };

/** tlsrpt.h's tlsrpt_failure_t, as RFC 8460 section 4.3 names each result-type. */
const FAILURE_TYPES: Readonly<Record<number, string>> = {
  201: "starttls-not-supported",
  202: "certificate-host-mismatch",
  203: "certificate-not-trusted",
  204: "certificate-expired",
  205: "validation-failure",
  301: "sts-policy-fetch-error",
  302: "sts-policy-invalid",
  303: "sts-webpki-invalid",
  304: "tlsa-invalid",
  305: "dnssec-invalid",
  306: "dane-required",
};

/** The RFC 8460 result-types a failure can carry (what expect.tlsrpt.failure accepts). */
export const TLSRPT_FAILURE_TYPES: readonly string[] = Object.values(FAILURE_TYPES);

const failureDetail = z.object({
  c: z.number().int(),
  s: z.string().optional(),
  n: z.string().optional(),
  h: z.string().optional(),
  r: z.string().optional(),
  a: z.string().optional(),
  f: z.string().optional(),
});

const datagramSchema = z.object({
  d: z.string(),
  pr: z.string(),
  policies: z
    .array(
      z.object({
        "policy-type": z.number().int(),
        "policy-domain": z.string().optional(),
        "policy-string": z.array(z.string()).optional(),
        "mx-host": z.array(z.string()).optional(),
        "failure-details": z.array(failureDetail).optional(),
        t: z.number().int(),
        f: z.number().int(),
      }),
    )
    .min(1),
});

/** The datagram of a collector line, or undefined for any other line (the collector's own notices included). */
export function collectorDatagram(line: string): string | undefined {
  const at = line.indexOf(COLLECTOR_PREFIX);
  if (at < 0) return undefined;
  const rest = line.slice(at + COLLECTOR_PREFIX.length);
  return rest.startsWith("{") ? rest : undefined;
}

function named<T>(table: Readonly<Record<number, T>>, code: number, what: string): T {
  const name = table[code];
  if (name === undefined) throw new Error(`TLSRPT datagram: unknown ${what} ${code}`);
  return name;
}

/** One event per policy of a datagram (Postfix sends one policy per handshake). Throws on a datagram libtlsrpt would not send. */
export function parseTlsrptDatagram(datagram: string): TlsrptEvent[] {
  let json: unknown;
  try {
    json = JSON.parse(datagram);
  } catch (error) {
    throw new Error(`TLSRPT datagram is not JSON (${(error as Error).message}): ${datagram}`);
  }
  const parsed = datagramSchema.safeParse(json);
  if (!parsed.success) throw new Error(`TLSRPT datagram not in libtlsrpt's format (${parsed.error.issues[0]?.message ?? "?"}): ${datagram}`);
  const { d: domain, pr: reportPolicy, policies } = parsed.data;
  return policies.map((policy) => {
    const detail = policy["failure-details"]?.[0];
    const result: TlsrptResult = policy.f === 0 ? "success" : "failure";
    return {
      policyDomain: policy["policy-domain"] ?? domain,
      policyType: named(POLICY_TYPES, policy["policy-type"], "policy type"),
      result,
      ...(detail && { failureType: named(FAILURE_TYPES, detail.c, "failure code") }),
      ...(detail?.n !== undefined && { receivingMx: detail.n }),
      domain,
      reportPolicy,
      ...(policy["policy-string"] && { policyStrings: policy["policy-string"] }),
      ...(policy["mx-host"] && { mxHosts: policy["mx-host"] }),
      ...(detail?.r !== undefined && { receivingIp: detail.r }),
      ...(detail?.h !== undefined && { receivingMxHelo: detail.h }),
    };
  });
}

/** What Postfix's own "TLSRPT: status=…" line says. */
export interface TlsrptLogLine {
  line: string;
  result: TlsrptResult;
  domain: string;
  /** The MX host, without its [address]. */
  receivingMx?: string;
  receivingIp?: string;
  /** In RFC 8460 spelling (Postfix logs certificate_not_trusted for certificate-not-trusted). */
  failureType?: string;
  /** OpenSSL's reason, when Postfix logs one (failure_reason=self-signed_certificate). */
  failureReason?: string;
}

const LOGGED = /postfix(?:\/[\w/.-]+)?\[\d+\]: TLSRPT: (.*)$/;

export function parseTlsrptLogLine(line: string): TlsrptLogLine | undefined {
  const match = LOGGED.exec(line);
  if (!match) return undefined;
  const fields = new Map(
    match[1]!.split(/,\s*/).flatMap((pair) => {
      const equals = pair.indexOf("=");
      return equals > 0 ? [[pair.slice(0, equals), pair.slice(equals + 1)] as const] : [];
    }),
  );
  const status = fields.get("status");
  const domain = fields.get("domain");
  if ((status !== "success" && status !== "failure") || domain === undefined) return undefined;
  const mx = /^([^[]+)(?:\[([^\]]+)\])?$/.exec(fields.get("receiving_mx") ?? "");
  const failureType = fields.get("failure_type");
  const failureReason = fields.get("failure_reason");
  return {
    line,
    result: status,
    domain,
    ...(mx?.[1] && { receivingMx: mx[1] }),
    ...(mx?.[2] && { receivingIp: mx[2] }),
    ...(failureType && { failureType: failureType.replaceAll("_", "-") }),
    ...(failureReason && { failureReason }),
  };
}

/**
 * The events of a scenario from both witnesses, paired in order: each
 * datagram must say what Postfix logged for the same handshake (result,
 * domain, failure type); the MX host comes from Postfix's line, the only
 * one to name it for a success. Throws when they disagree.
 */
export function combineWitnesses(datagrams: readonly TlsrptEvent[], logged: readonly TlsrptLogLine[]): TlsrptEvent[] {
  if (datagrams.length !== logged.length) {
    throw new Error(`Postfix logged ${logged.length} TLSRPT event(s), its TLSRPT library sent ${datagrams.length} datagram(s) to the collector`);
  }
  return datagrams.map((event, index) => {
    const line = logged[index]!;
    const disagreements = [
      event.result !== line.result && `result ${event.result} ≠ status=${line.result}`,
      event.domain !== line.domain && `domain ${event.domain} ≠ domain=${line.domain}`,
      event.failureType !== line.failureType && `failure ${event.failureType ?? "none"} ≠ failure_type=${line.failureType ?? "none"}`,
      event.receivingMx !== undefined && line.receivingMx !== undefined && event.receivingMx !== line.receivingMx && `MX ${event.receivingMx} ≠ receiving_mx=${line.receivingMx}`,
    ].filter((text): text is string => typeof text === "string");
    if (disagreements.length > 0) {
      throw new Error(`the two witnesses of TLSRPT event ${index + 1} disagree, the collector's datagram and Postfix's line: ${disagreements.join("; ")}\n  ${line.line}`);
    }
    return {
      ...event,
      ...(line.receivingMx !== undefined && { receivingMx: line.receivingMx }),
      ...(event.receivingIp === undefined && line.receivingIp !== undefined && { receivingIp: line.receivingIp }),
    };
  });
}

/** One line for people: what the event would add to Bob's provider's report. */
export function describeTlsrptEvent(event: TlsrptEvent): string {
  const policy = event.policyType === "no-policy-found" ? "no policy found" : `${event.policyType} policy of ${event.policyDomain}`;
  const outcome = event.result === "success" ? "success" : `failure ${event.failureType ?? "(no result-type)"}`;
  const mx = event.receivingMx ? ` with ${event.receivingMx}` : "";
  return `tlsrpt: ${outcome}${mx} (${policy}), reported for ${event.domain} to ${event.reportPolicy.replace(/^v=TLSRPTv1;\s*/, "")}`;
}
