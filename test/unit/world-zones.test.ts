import { describe, expect, it } from "vitest";
import { DEFAULT_DNS_SETTINGS } from "../../src/scenario/dnsDefaults.js";
import type { DnsSettings } from "../../src/scenario/types.js";
import { dnsPlan, mtaStsPolicy, type TlsaDigests, type WorldAddresses } from "../../src/world/zones.js";

const addresses: WorldAddresses = { dns: "172.30.0.2", sender: "172.30.0.3", receiver: "172.30.0.4", wire: "172.30.0.5" };
const digests: TlsaDigests = {
  presentedKey: { "iroco.test": "aa".repeat(32), "lutins.test": "bb".repeat(32), "ecole.test": "cc".repeat(32) },
  otherKey: "dd".repeat(32),
  caCertificate: "ee".repeat(32),
};
const plan = (settings: Partial<DnsSettings>) => dnsPlan({ ...DEFAULT_DNS_SETTINGS, ...settings }, addresses, digests);
const zone = (settings: Partial<DnsSettings>, name: string) => {
  const found = plan(settings).zones.find((z) => z.name === name);
  if (!found) throw new Error(`no zone ${name}`);
  return found;
};

describe("the world's zones", () => {
  it("one zone per mail domain, Alice's always signed", () => {
    const zones = plan({ zone: "unsigned" }).zones;
    expect(zones.map((z) => [z.name, z.signing])).toEqual([
      ["infomaniak.test", "signed"],
      ["iroco.test", "unsigned"],
      ["lutins.test", "unsigned"],
      ["ecole.test", "unsigned"],
    ]);
  });

  it("routes by MX: Bob's domains point at the wire, Alice's at her provider", () => {
    const iroco = zone({}, "iroco.test").text;
    expect(iroco).toContain("$ORIGIN iroco.test.");
    expect(iroco).toContain("@ IN MX 10 mx.iroco.test.");
    expect(iroco).toContain("mx IN A 172.30.0.5");
    expect(iroco).toContain("imap IN A 172.30.0.4");
    expect(iroco).toContain("ns IN A 172.30.0.2");
    const infomaniak = zone({}, "infomaniak.test").text;
    expect(infomaniak).toContain("@ IN MX 10 smtp.infomaniak.test.");
    expect(infomaniak).toContain("smtp IN A 172.30.0.3");
  });

  it("TLSA: auto names each host's own key, wrong another key, ca the CA, none nothing", () => {
    expect(zone({}, "iroco.test").text).toContain(`_25._tcp.mx IN TLSA 3 1 1 ${"aa".repeat(32)}`);
    expect(zone({}, "lutins.test").text).toContain(`_25._tcp.mx IN TLSA 3 1 1 ${"bb".repeat(32)}`);
    expect(zone({ tlsa: "wrong" }, "iroco.test").text).toContain(`_25._tcp.mx IN TLSA 3 1 1 ${"dd".repeat(32)}`);
    expect(zone({ tlsa: "ca" }, "iroco.test").text).toContain(`_25._tcp.mx IN TLSA 2 0 1 ${"ee".repeat(32)}`);
    expect(zone({ tlsa: "none" }, "iroco.test").text).not.toContain("TLSA");
  });

  it("MTA-STS: a TXT record, the policy host, and the policy naming the domain's MX unless overridden", () => {
    expect(plan({}).mtaStsPolicies).toEqual({});
    expect(zone({}, "iroco.test").text).not.toContain("_mta-sts");
    const enforced = plan({ mtaSts: { mode: "enforce" } });
    expect(enforced.mtaStsPolicies["iroco.test"]).toBe("version: STSv1\r\nmode: enforce\r\nmx: mx.iroco.test\r\nmax_age: 86400\r\n");
    const text = enforced.zones.find((z) => z.name === "iroco.test")!.text;
    expect(text).toMatch(/^_mta-sts IN TXT "v=STSv1; id=lab[0-9a-f]+"$/m);
    expect(text).toContain("mta-sts IN A 172.30.0.2");
    expect(plan({ mtaSts: { mode: "testing", mx: ["mx.elsewhere.test"] } }).mtaStsPolicies["lutins.test"]).toBe(mtaStsPolicy("testing", ["mx.elsewhere.test"]));
  });

  it("a changed policy gets a new id", () => {
    const id = (settings: Partial<DnsSettings>) => /id=(\w+)/.exec(zone(settings, "iroco.test").text)?.[1];
    expect(id({ mtaSts: { mode: "enforce" } })).not.toBe(id({ mtaSts: { mode: "testing" } }));
  });
});
