import { describe, expect, it } from "vitest";
import { scenarioTextLoader } from "./helpers/scenarioText.js";

const { load, errorOf } = scenarioTextLoader("matrix.yaml");

const securityLevels = `name: Security levels
matrix:
  axes:
    sender:   { set: sender.postconf.smtp_tls_security_level,  values: [none, may] }
    receiver: { set: receiver.postconf.smtpd_tls_security_level, values: [none, may, encrypt] }
  cells:
    - when: { sender: none, receiver: [none, may] }
      expect: { outcome: delivered, transport: plaintext }
    - when: { sender: none, receiver: encrypt }
      expect: { outcome: bounced, reason: Must issue a STARTTLS command first }
    - when: { sender: may, receiver: none }
      expect: { outcome: delivered, transport: plaintext }
    - when: { sender: may, receiver: [may, encrypt] }
      expect: { outcome: delivered, transport: tls }
`;

describe("a matrix", () => {
  it("becomes one scenario per combination, named with the axis values in axis order", () => {
    expect(load(securityLevels).map(({ name }) => name)).toEqual([
      "Security levels [sender=none, receiver=none]",
      "Security levels [sender=none, receiver=may]",
      "Security levels [sender=none, receiver=encrypt]",
      "Security levels [sender=may, receiver=none]",
      "Security levels [sender=may, receiver=may]",
      "Security levels [sender=may, receiver=encrypt]",
    ]);
  });

  it("sets each axis value where the axis says, and takes the covering cell's expectation and line", () => {
    const bounced = load(securityLevels).find(({ name }) => name.endsWith("[sender=none, receiver=encrypt]"));
    expect(bounced).toMatchObject({
      source: { file: "matrix.yaml", line: 9 },
      sender: { postconf: { smtp_tls_security_level: "none" } },
      receiver: { postconf: { smtpd_tls_security_level: "encrypt" } },
      message: { subject: "starttls-lab: Security levels [sender=none, receiver=encrypt]" },
      expect: { outcome: "bounced", reason: { kind: "substring", text: "Must issue a STARTTLS command first" } },
    });
  });

  it("keeps the rest of the document in every scenario", () => {
    const scenarios = load(securityLevels.replace("matrix:", "story: Levels.\nsender: { postconf: { smtp_tls_loglevel: 1 } }\nmatrix:"));
    for (const scenario of scenarios) {
      expect(scenario.story).toBe("Levels.");
      expect(scenario.sender.postconf.smtp_tls_loglevel).toBe("1");
    }
  });

  it("can set the submission port, the provider and auth with their own types", () => {
    const [port25] = load(`name: Port
matrix:
  axes:
    port: { set: message.via.port, values: [25] }
    auth: { set: message.via.auth, values: [false] }
  cells:
    - when: { port: 25, auth: false }
      expect: { outcome: rejected }
`);
    expect(port25?.name).toBe("Port [port=25, auth=false]");
    expect(port25?.message.via).toEqual({ provider: "sender", port: 25, auth: false });
  });
});

describe("matrix cells", () => {
  it("must cover every combination", () => {
    expect(errorOf(securityLevels.replace("receiver: [may, encrypt]", "receiver: may"))).toBe(
      "matrix.yaml:6:3: matrix.cells: no cell for sender=may, receiver=encrypt",
    );
  });

  it("must not cover a combination twice", () => {
    expect(errorOf(securityLevels.replace("{ sender: may, receiver: none }", "{ sender: may, receiver: [none, may] }"))).toBe(
      "matrix.yaml:13:7: matrix.cells[3].when: sender=may, receiver=may also covered by matrix.cells[2] (line 11)",
    );
  });

  it("name only values of the axis", () => {
    expect(errorOf(securityLevels.replace("{ sender: none, receiver: encrypt }", "{ sender: none, receiver: secure }"))).toBe(
      "matrix.yaml:9:39: matrix.cells[1].when.receiver: secure is not a value of axis receiver (none, may, encrypt)",
    );
  });

  it("name every axis, and only axes", () => {
    expect(errorOf(securityLevels.replace("{ sender: none, receiver: encrypt }", "{ sender: none, recipient: encrypt }"))).toBe(
      [
        "matrix.yaml:9:7: matrix.cells[1].when: missing axis receiver (give a value or a list of values)",
        "matrix.yaml:9:29: matrix.cells[1].when.recipient: unknown axis (axes: sender, receiver)",
      ].join("\n"),
    );
  });

  it("have their expectations checked like any scenario's", () => {
    expect(errorOf(securityLevels.replace("{ outcome: bounced, reason", "{ outcome: bounced, transport: tls, reason"))).toBe(
      "matrix.yaml:10:46: matrix.cells[1].expect.transport: only a delivered message has one (outcome is bounced)",
    );
  });
});

describe("matrix axes", () => {
  it("set only the fields a matrix may vary", () => {
    expect(errorOf(securityLevels.replace("set: sender.postconf.smtp_tls_security_level", "set: message.subject"))).toBe(
      "matrix.yaml:4:22: matrix.axes.sender.set: cannot be set by a matrix; use sender.mta, receiver.mta, sender.level, receiver.level, sender.postconf.<param>, receiver.postconf.<param>, sender.postfix, receiver.postfix, sender.certificate, receiver.certificate, sender.certificateKey, receiver.certificateKey, wire, dns.zone, dns.tlsa, dns.mtaSts.mode or message.via.provider|port|auth",
    );
  });

  it("list each value once", () => {
    expect(errorOf(securityLevels.replace("values: [none, may] }", "values: [none, may, may] }"))).toBe(
      "matrix.yaml:4:84: matrix.axes.sender.values[2]: may is listed twice",
    );
  });

  it("own the field they set: the document may not set it too", () => {
    expect(errorOf(securityLevels.replace("matrix:", "sender: { postconf: { smtp_tls_security_level: encrypt } }\nmatrix:"))).toBe(
      "matrix.yaml:2:48: sender.postconf.smtp_tls_security_level: also set by matrix axis sender; write it in one place only",
    );
  });

  it("set values that must be valid there; the error is at the cell that uses it", () => {
    expect(errorOf(`name: Certificates
matrix:
  axes:
    certificate: { set: receiver.certificate, values: [valid, bogus] }
  cells:
    - when: { certificate: valid }
      expect: { outcome: delivered, transport: tls }
    - when: { certificate: bogus }
      expect: { outcome: deferred }
`)).toBe('matrix.yaml:8:7: receiver.certificate: Invalid option: expected one of "valid"|"expired"|"not-yet-valid"|"wrong-name"|"self-signed"|"unknown-ca"|"missing-intermediate"|"with-intermediate" (value bogus of matrix axis certificate)');
  });

  it("combine with the document into valid scenarios only (no AUTH on port 25)", () => {
    expect(errorOf(`name: Ports
message: { via: { auth: true } }
matrix:
  axes:
    port: { set: message.via.port, values: [465, 25] }
  cells:
    - when: { port: [465, 25] }
      expect: { outcome: delivered, transport: tls }
`)).toBe(
      "matrix.yaml:7:7: message.via.auth: no AUTH on port 25 in this world (AUTH needs submissions on 465); use auth: false or port: 465 (matrix combination port=25)",
    );
  });
});
