import { MailWorld } from "../../src/world/world.js";
import { runScenario } from "../../src/runner.js";
import type { Scenario } from "../../src/scenario/types.js";
const base = (name: string, s: Record<string,string>, r: Record<string,string>, expect: Scenario["expect"]): Scenario => ({
  name, source: { file: "smoke", line: 1 }, sender: { postconf: s, certificate: "valid" }, receiver: { postconf: r, certificate: "valid" }, wire: "pass",
  message: { from: "alice@infomaniak.test", to: "bob@iroco.test", subject: name, via: { provider: "sender", port: 465, auth: true } }, expect });
import { test } from "vitest";
test("smoke", async () => {
const world = await MailWorld.start({ onProgress: (s) => console.log("..", s) });
console.log(world.timings);
try {
  for (const sc of [
    base("may-may", { smtp_tls_security_level: "may" }, { smtpd_tls_security_level: "may" }, { outcome: "delivered", transport: "tls" }),
    base("may-none", { smtp_tls_security_level: "may" }, { smtpd_tls_security_level: "none" }, { outcome: "delivered", transport: "plaintext" }),
    base("enc-none", { smtp_tls_security_level: "encrypt" }, { smtpd_tls_security_level: "none" }, { outcome: "deferred" }),
    base("none-enc", { smtp_tls_security_level: "none" }, { smtpd_tls_security_level: "encrypt" }, { outcome: "bounced" }),
  ]) {
    const r = await runScenario(world, sc);
    console.log(sc.name, r.durationMs, JSON.stringify(r.observation ?? r.error, null, 1), r.verdict.passed);
  }
} finally { await world.stop(); }
});
