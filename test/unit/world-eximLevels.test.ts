import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  EXIM_LEVELS,
  EXIM_RECEIVER_LEVELS,
  EXIM_TLS_OPTIONS,
  eximRoleMacros,
  eximServerSettingsFor,
  eximSettingsFor,
  levelMacros,
  parseServerSettings,
  parseTransportOptions,
} from "../../src/world/eximContainer.js";
import { PROVIDERS } from "../../src/world/providers.js";
import { SENDER_LEVELS, UnsupportedLevelError } from "../../src/scenario/levels.js";

/** `exim -bP transport remote_smtp` in the real image before any level is applied (exim.conf's defaults). */
const printed = readFileSync(new URL("../fixtures/logs/exim-bP-remote_smtp-4.98.txt", import.meta.url), "utf8");

describe("Exim's sender levels", () => {
  it("names every sender level of the vocabulary: mapped, or refused with a reason", () => {
    expect(Object.keys(EXIM_LEVELS).sort()).toEqual([...SENDER_LEVELS].sort());
  });

  it("refuses secure, and anything that is no sender level of the vocabulary, before touching a container", () => {
    expect(() => eximSettingsFor("secure")).toThrow(UnsupportedLevelError);
    expect(() => eximSettingsFor("fingerprint")).toThrow(/"fingerprint": it is not a sender level/);
    expect(() => eximSettingsFor("mandatory")).toThrow(/not a sender level/);
  });

  it("the image's defaults, as Exim printed them, are the may level", () => {
    expect(parseTransportOptions(printed)).toEqual(EXIM_LEVELS.may);
  });

  it("only may-like levels leave STARTTLS optional; only the dane levels try DANE (Exim 4.98 would try it everywhere)", () => {
    const requireTls = (level: string) => eximSettingsFor(level).hosts_require_tls === "*";
    expect(["encrypt", "verify"].every(requireTls)).toBe(true);
    expect(["none", "may", "dane"].some(requireTls)).toBe(false);
    expect(eximSettingsFor("none").hosts_avoid_tls).toBe("*");
    expect(eximSettingsFor("dane").hosts_try_dane).toBe("*");
    expect(eximSettingsFor("dane-only").hosts_require_dane).toBe("*");
    for (const level of ["none", "may", "encrypt", "verify"]) expect(eximSettingsFor(level).hosts_try_dane, level).toBe("");
  });

  it("smtp-client.conf defines one macro per option, in the names exim.conf reads", () => {
    const macros = levelMacros(eximSettingsFor("verify"));
    expect(macros.split("\n").filter(Boolean)).toHaveLength(EXIM_TLS_OPTIONS.length);
    expect(macros).toContain("LAB_HOSTS_REQUIRE_TLS = *\n");
    expect(macros).toContain("LAB_TLS_VERIFY_HOSTS = *\n");
    expect(macros).toContain("LAB_HOSTS_TRY_DANE = \n");
    const config = readFileSync(new URL("../../docker/exim/exim.conf", import.meta.url), "utf8");
    for (const line of macros.split("\n").filter(Boolean)) expect(config).toContain(line.split(" = ")[0]);
  });

  it("role.conf: the sender delivers its own domain and reaches the receiver's three by SMTP", () => {
    expect(eximRoleMacros(PROVIDERS.sender)).toBe(
      "PRIMARY_HOSTNAME = smtp.infomaniak.test\nPRIMARY_DOMAIN = infomaniak.test\nLOCAL_DOMAINS = infomaniak.test\nWORLD_DOMAINS = iroco.test : lutins.test : ecole.test\n",
    );
  });

  it("receiver levels: none offers no STARTTLS, encrypt also refuses MAIL without it; a client-only level is refused", () => {
    expect(eximServerSettingsFor("none")).toEqual({ tls_advertise_hosts: "", mail_requires_tls: "no" });
    expect(eximServerSettingsFor("encrypt")).toEqual({ tls_advertise_hosts: "*", mail_requires_tls: "yes" });
    expect(() => eximServerSettingsFor("verify")).toThrow(UnsupportedLevelError);
    const macros = levelMacros(EXIM_RECEIVER_LEVELS.encrypt);
    expect(macros).toBe("LAB_TLS_ADVERTISE_HOSTS = *\nLAB_MAIL_REQUIRES_TLS = yes\n");
    const config = readFileSync(new URL("../../docker/exim/exim.conf", import.meta.url), "utf8");
    expect(config).toContain("tls_advertise_hosts = LAB_TLS_ADVERTISE_HOSTS");
    expect(config).toContain("${if bool{LAB_MAIL_REQUIRES_TLS}}");
  });

  it("port 25's settings from what exim -bP printed in the image (the may defaults, then none)", () => {
    expect(parseServerSettings("tls_advertise_hosts = *\n", "LAB_MAIL_REQUIRES_TLS=no\n")).toEqual(EXIM_RECEIVER_LEVELS.may);
    expect(parseServerSettings("tls_advertise_hosts = \n", "LAB_MAIL_REQUIRES_TLS=yes\n")).toEqual({ tls_advertise_hosts: "", mail_requires_tls: "yes" });
    expect(() => parseServerSettings("", "")).toThrow(/port 25/);
  });

  it("parseTransportOptions says which option Exim did not print", () => {
    expect(() => parseTransportOptions("hosts_avoid_tls = *\n")).toThrow(/hosts_require_tls/);
  });
});
