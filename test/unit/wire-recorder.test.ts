/**
 * The wire's recorder on real byte streams: a scripted SMTP server and client
 * talk over loopback (node:net, upgraded in place with node:tls), and a
 * pass-through proxy between them captures every chunk both ways and feeds a
 * HopRecorder, as the wire container will on the port-25 hop.
 */
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { readFileSync, writeFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import tls from "node:tls";
import { describe, expect, it } from "vitest";
import { hello, HOST, Lines, smtpLines, useTestCertificate } from "./helpers/loopbackSmtp.js";
import { HopRecorder } from "../../src/wire/recorder.js";
import type { Direction, TlsHandshakeEvent, Transcript, WireEvent } from "../../src/wire/transcript.js";

const FIXTURES = path.resolve(import.meta.dirname, "../fixtures/wire");

interface Chunk {
  from: Direction;
  data: Buffer;
}

interface FixtureFile {
  description: string;
  marker: string;
  chunks: { from: Direction; base64: string }[];
}

// ---------------------------------------------------------------- loopback SMTP

interface ServerScript {
  offerStarttls: boolean;
  /** The reply to STARTTLS. */
  starttlsReply: "220" | "454";
  /** The only key exchange groups the server accepts (node:tls ecdhCurve), e.g. "P-256". */
  groups?: string;
}

/** Bob's provider, scripted: enough SMTP for one message, STARTTLS upgrading the same socket. */
async function serveSmtp(socket: net.Socket, script: ServerScript, context: tls.SecureContext): Promise<void> {
  let lines = new Lines(socket);
  let secure = false;
  lines.send("220 mx.iroco.test ESMTP starttls-lab\r\n");
  for (;;) {
    const line = await lines.next();
    if (line === null) return;
    const verb = (line.split(" ")[0] ?? "").toUpperCase();
    if (verb === "EHLO") {
      const keywords = ["PIPELINING", "SIZE 10240000", "ENHANCEDSTATUSCODES", "8BITMIME"];
      if (script.offerStarttls && !secure) keywords.splice(2, 0, "STARTTLS");
      const reply = ["250-mx.iroco.test", ...keywords.map((k) => `250-${k}`), "250 SMTPUTF8"];
      lines.send(reply.map((l) => `${l}\r\n`).join(""));
    } else if (verb === "STARTTLS" && script.starttlsReply === "454") {
      lines.send("454 4.7.0 TLS not available due to local problem\r\n");
    } else if (verb === "STARTTLS") {
      lines.detach();
      socket.write("220 2.0.0 Ready to start TLS\r\n");
      const secured = new tls.TLSSocket(socket, { isServer: true, secureContext: context });
      secured.on("error", () => socket.destroy());
      lines = new Lines(secured);
      secure = true;
    } else if (verb === "MAIL") {
      lines.send("250 2.1.0 Ok\r\n");
    } else if (verb === "RCPT") {
      lines.send("250 2.1.5 Ok\r\n");
    } else if (verb === "DATA") {
      lines.send("354 End data with <CR><LF>.<CR><LF>\r\n");
      for (let content = await lines.next(); content !== "."; content = await lines.next()) {
        if (content === null) return;
      }
      lines.send("250 2.0.0 Ok: queued as 4XyZ1a2B3c\r\n");
    } else if (verb === "QUIT") {
      lines.send("221 2.0.0 Bye\r\n");
      lines.stream.end();
      return;
    } else {
      lines.send("502 5.5.2 Error: command not recognized\r\n");
    }
  }
}

interface ClientScript {
  useStarttls: boolean;
  maxVersion?: tls.SecureVersion;
  /** The key exchange groups the client offers (node:tls ecdhCurve), e.g. "P-256". */
  groups?: string;
  /** After the server's 220 to STARTTLS: a real handshake, or garbage. */
  afterStarttls?: "tls" | "garbage";
}

const GARBAGE = (marker: string): Buffer =>
  Buffer.concat([
    // Looks like a handshake record; its content is not a handshake message.
    Buffer.from([0x16, 0x03, 0x01, 0x00, 0x08, 0xff, 0xff, 0xff, 0xff, 0x00, 0x01, 0x02, 0x03]),
    // Then no TLS at all: a client carrying on in clear text.
    Buffer.from(`MAIL FROM:<alice@infomaniak.test>\r\nX-Body: ${marker}\r\n`),
    randomBytes(48),
    Buffer.from([0x16, 0x03, 0x01, 0xff, 0xff]),
  ]);

/** Alice's provider, scripted: one message whose body carries the marker. */
async function sendMessage(port: number, script: ClientScript, marker: string): Promise<void> {
  const socket = net.connect(port, HOST);
  await once(socket, "connect");
  let lines = new Lines(socket);
  await lines.reply();
  lines.send("EHLO smtp.infomaniak.test\r\n");
  const ehlo = await lines.reply();
  if (script.useStarttls && ehlo.some((l) => /^250[ -]STARTTLS$/i.test(l))) {
    lines.send("STARTTLS\r\n");
    const reply = await lines.reply();
    if (reply.at(-1)?.startsWith("220")) {
      lines.detach();
      if (script.afterStarttls === "garbage") {
        socket.end(GARBAGE(marker));
        await once(socket, "close");
        return;
      }
      const secured = tls.connect({
        socket,
        servername: "mx.iroco.test",
        rejectUnauthorized: false,
        ...(script.maxVersion ? { maxVersion: script.maxVersion } : {}),
        ...(script.groups ? { ecdhCurve: script.groups } : {}),
      });
      await once(secured, "secureConnect");
      lines = new Lines(secured);
      lines.send("EHLO smtp.infomaniak.test\r\n");
      await lines.reply();
    }
  }
  lines.send("MAIL FROM:<alice@infomaniak.test>\r\n");
  await lines.reply();
  lines.send("RCPT TO:<bob@iroco.test>\r\n");
  await lines.reply();
  lines.send("DATA\r\n");
  await lines.reply();
  lines.send(
    [
      "From: Alice <alice@infomaniak.test>",
      "To: Bob <bob@iroco.test>",
      "Subject: Hello Bob",
      "",
      "Hello Bob,",
      `the marker of this message is ${marker}.`,
      ".",
      "",
    ].join("\r\n"),
  );
  await lines.reply();
  lines.send("QUIT\r\n");
  await lines.reply();
  lines.stream.end();
  await once(lines.stream, "close");
}

/** The wire: relays one connection both ways, capturing every chunk and feeding a recorder. */
async function startProxy(targetPort: number, recorder: HopRecorder, chunks: Chunk[]) {
  let finished!: () => void;
  const done = new Promise<void>((resolve) => (finished = resolve));
  const server = net.createServer({ allowHalfOpen: true }, (client) => {
    const upstream = net.connect({ port: targetPort, host: HOST, allowHalfOpen: true });
    let open = 2;
    const closed = (): void => {
      if (--open === 0) finished();
    };
    const relay = (from: Direction, source: net.Socket, sink: net.Socket): void => {
      source.on("data", (data: Buffer) => {
        chunks.push({ from, data: Buffer.from(data) });
        if (from === "client") recorder.clientBytes(data);
        else recorder.serverBytes(data);
        sink.write(data);
      });
      source.on("end", () => {
        recorder.close(from);
        sink.end();
      });
      source.on("error", () => {
        recorder.close(from);
        sink.destroy();
      });
      source.on("close", closed);
    };
    relay("client", client, upstream);
    relay("server", upstream, client);
  });
  server.listen(0, HOST);
  await once(server, "listening");
  const port = (server.address() as net.AddressInfo).port;
  return { port, done, close: () => server.close() };
}


interface Exchange {
  server: ServerScript;
  client: ClientScript;
}

/** Runs one delivery through the proxy; returns the captured chunks and the live transcript. */
async function exchange({ server: serverScript, client }: Exchange, marker: string) {
  const smtpd = net.createServer((socket) => {
    socket.on("error", () => socket.destroy());
    const context = serverScript.groups
      ? tls.createSecureContext({ key: certificate.keyPem, cert: certificate.certPem, ecdhCurve: serverScript.groups })
      : certificate.context;
    serveSmtp(socket, serverScript, context).catch(() => socket.destroy());
  });
  smtpd.listen(0, HOST);
  await once(smtpd, "listening");
  const recorder = new HopRecorder();
  const chunks: Chunk[] = [];
  const proxy = await startProxy((smtpd.address() as net.AddressInfo).port, recorder, chunks);
  try {
    await sendMessage(proxy.port, client, marker);
    await proxy.done;
  } finally {
    proxy.close();
    smtpd.close();
  }
  return { chunks, transcript: recorder.transcript(marker) };
}

const newMarker = (): string => `lab-${randomBytes(6).toString("hex")}`;

// ---------------------------------------------------------------- helpers on transcripts

const withoutTimes = (events: WireEvent[]): unknown[] => events.map(({ at: _at, ...rest }) => rest);

const dataTotals = (t: Transcript, from: Direction): { records: number; bytes: number } =>
  t.events.reduce(
    (sum, e) =>
      e.kind === "tls-data" && e.from === from
        ? { records: sum.records + e.records, bytes: sum.bytes + e.bytes }
        : sum,
    { records: 0, bytes: 0 },
  );

function replay(chunks: Chunk[], marker: string, split?: (chunk: Buffer) => Buffer[]): Transcript {
  const recorder = new HopRecorder({ now: () => 0 });
  for (const { from, data } of chunks) {
    for (const piece of split ? split(data) : [data]) {
      if (from === "client") recorder.clientBytes(piece);
      else recorder.serverBytes(piece);
    }
  }
  recorder.close("client");
  recorder.close("server");
  return recorder.transcript(marker);
}

const bytewise = (chunk: Buffer): Buffer[] => [...chunk].map((byte) => Buffer.from([byte]));

function saveFixture(name: string, description: string, marker: string, chunks: Chunk[]): void {
  const file: FixtureFile = {
    description,
    marker,
    chunks: chunks.map(({ from, data }) => ({ from, base64: data.toString("base64") })),
  };
  writeFileSync(path.join(FIXTURES, name), `${JSON.stringify(file, null, 2)}\n`);
}

function loadFixture(name: string): { marker: string; chunks: Chunk[] } {
  const file = JSON.parse(readFileSync(path.join(FIXTURES, name), "utf8")) as FixtureFile;
  return {
    marker: file.marker,
    chunks: file.chunks.map(({ from, base64 }) => ({ from, data: Buffer.from(base64, "base64") })),
  };
}

/** Set WIRE_FIXTURES_UPDATE=1 to capture the fixture files anew. */
const UPDATE_FIXTURES = process.env.WIRE_FIXTURES_UPDATE === "1";
const FIXTURE_MARKER = "lab-5f2c9a1b0e3d";

const certificate = useTestCertificate();

/** With WIRE_FIXTURES_UPDATE=1: runs the exchange again under the fixtures' marker and saves what crossed. */
async function recaptureFixture(name: string, description: string, what: Exchange): Promise<void> {
  if (!UPDATE_FIXTURES) return;
  const again = await exchange(what, FIXTURE_MARKER);
  saveFixture(name, description, FIXTURE_MARKER, again.chunks);
}

const PLAINTEXT: Exchange = {
  server: { offerStarttls: false, starttlsReply: "220" },
  client: { useStarttls: true },
};
const STARTTLS: Exchange = {
  server: { offerStarttls: true, starttlsReply: "220" },
  client: { useStarttls: true },
};

// ---------------------------------------------------------------- live exchanges

describe("HopRecorder on a live loopback exchange", () => {
  it("(a) plaintext delivery: every SMTP line and the marker are readable", async () => {
    const marker = newMarker();
    const { transcript: t } = await exchange(PLAINTEXT, marker);
    expect(t.plaintextBody).toBe(true);
    expect(t.sawStarttlsOffer).toBe(false);
    expect(t.sawStarttlsCommand).toBe(false);
    expect(t.events.some((e) => e.kind.startsWith("tls") || e.kind === "starttls")).toBe(false);
    expect(smtpLines(t, "client")).toEqual([
      "EHLO smtp.infomaniak.test",
      "MAIL FROM:<alice@infomaniak.test>",
      "RCPT TO:<bob@iroco.test>",
      "DATA",
      "From: Alice <alice@infomaniak.test>",
      "To: Bob <bob@iroco.test>",
      "Subject: Hello Bob",
      "",
      "Hello Bob,",
      `the marker of this message is ${marker}.`,
      ".",
      "QUIT",
    ]);
    expect(smtpLines(t, "server")).toEqual([
      "220 mx.iroco.test ESMTP starttls-lab",
      "250-mx.iroco.test",
      "250-PIPELINING",
      "250-SIZE 10240000",
      "250-ENHANCEDSTATUSCODES",
      "250-8BITMIME",
      "250 SMTPUTF8",
      "250 2.1.0 Ok",
      "250 2.1.5 Ok",
      "354 End data with <CR><LF>.<CR><LF>",
      "250 2.0.0 Ok: queued as 4XyZ1a2B3c",
      "221 2.0.0 Bye",
    ]);
    expect(t.events.filter((e) => e.kind === "closed").map((e) => e.kind === "closed" && e.from).sort()).toEqual([
      "client",
      "server",
    ]);
  });

  it("(b) STARTTLS delivery: SNI and versions readable, the message not", async () => {
    const marker = newMarker();
    const { chunks, transcript: t } = await exchange(STARTTLS, marker);
    expect(t.sawStarttlsOffer).toBe(true);
    expect(t.sawStarttlsCommand).toBe(true);
    expect(t.plaintextBody).toBe(false);

    const clientHello = hello(t, "ClientHello");
    expect(clientHello).toMatchObject({ from: "client", sni: "mx.iroco.test" });
    expect(clientHello?.offeredVersions).toEqual(expect.arrayContaining(["TLSv1.3", "TLSv1.2"]));
    const serverHello = hello(t, "ServerHello");
    expect(serverHello).toMatchObject({ from: "server", chosenVersion: "TLSv1.3", legacyVersion: "TLSv1.2" });
    expect(serverHello?.cipherSuite).toMatch(/^TLS_/);
    // node:tls offers an X25519 key share first, and the server takes it.
    expect(serverHello?.keyExchange).toBe("x25519");

    expect(dataTotals(t, "client").records).toBeGreaterThan(0);
    expect(dataTotals(t, "server").records).toBeGreaterThan(0);
    expect(dataTotals(t, "client").bytes).toBeGreaterThan(100);

    const switchAt = t.events.findIndex((e) => e.kind === "starttls");
    expect(switchAt).toBeGreaterThan(0);
    expect(t.events[switchAt - 1]).toMatchObject({ kind: "smtp", from: "server", line: "220 2.0.0 Ready to start TLS" });
    expect(t.events.slice(switchAt).filter((e) => e.kind === "smtp")).toEqual([]);
    expect(smtpLines(t).join("\n")).not.toMatch(/MAIL FROM|RCPT TO|Subject/);
    expect(smtpLines(t, "client")).toEqual(["EHLO smtp.infomaniak.test", "STARTTLS"]);

    // No byte of the raw capture holds the marker in clear: it crossed inside TLS.
    expect(Buffer.concat(chunks.map((c) => c.data)).includes(marker)).toBe(false);

    await recaptureFixture(
      "starttls-tls13.json",
      "STARTTLS then TLS 1.3 over loopback (node:tls client, SNI mx.iroco.test), captured by a pass-through proxy",
      STARTTLS,
    );
    await recaptureFixture("plaintext.json", "SMTP without STARTTLS over loopback, captured by a pass-through proxy", PLAINTEXT);
  });

  it("(c) TLS 1.2 forced by the client: the ServerHello chooses TLSv1.2", async () => {
    const marker = newMarker();
    const { transcript: t } = await exchange({ ...STARTTLS, client: { useStarttls: true, maxVersion: "TLSv1.2" } }, marker);
    expect(hello(t, "ClientHello")).toMatchObject({ sni: "mx.iroco.test", offeredVersions: ["TLSv1.2"] });
    expect(hello(t, "ServerHello")).toMatchObject({ chosenVersion: "TLSv1.2" });
    // TLS 1.2 shows more of its handshake: ChangeCipherSpec both ways, the rest encrypted.
    const ccs = t.events.filter((e) => e.kind === "tls-handshake" && e.messages?.includes("ChangeCipherSpec"));
    expect(ccs.map((e) => e.kind === "tls-handshake" && e.from).sort()).toEqual(["client", "server"]);
    expect(dataTotals(t, "client").records).toBeGreaterThan(0);
    expect(t.plaintextBody).toBe(false);
  });

  it("(f) TLS 1.3 with only P-384 offered: the ServerHello's key_share names secp384r1", async () => {
    const { transcript: t } = await exchange({ ...STARTTLS, client: { useStarttls: true, groups: "P-384" } }, newMarker());
    expect(hello(t, "ServerHello")).toMatchObject({ chosenVersion: "TLSv1.3", keyExchange: "secp384r1" });
  });

  it("(g) TLS 1.2 ECDHE with only P-256 offered: the ServerKeyExchange, readable, names secp256r1", async () => {
    const marker = newMarker();
    const tls12P256: Exchange = { ...STARTTLS, client: { useStarttls: true, maxVersion: "TLSv1.2", groups: "P-256" } };
    const { transcript: t } = await exchange(tls12P256, marker);
    const serverHello = hello(t, "ServerHello");
    expect(serverHello).toMatchObject({ chosenVersion: "TLSv1.2" });
    expect(serverHello?.cipherSuite).toMatch(/^ECDHE-/);
    const withGroup = t.events.filter((e) => e.kind === "tls-handshake" && e.keyExchange !== undefined);
    expect(withGroup).toHaveLength(1);
    expect(withGroup[0]).toMatchObject({ from: "server", keyExchange: "secp256r1" });
    expect(withGroup[0]?.kind === "tls-handshake" && withGroup[0].messages).toContain("ServerKeyExchange");
    await recaptureFixture(
      "starttls-tls12-p256.json",
      "STARTTLS then TLS 1.2 ECDHE over loopback (node:tls client offering only P-256 and at most TLSv1.2), captured by a pass-through proxy",
      tls12P256,
    );
  });

  it("(h) a server that wants P-256 asks the X25519 client to retry: the hellos after the dummy ChangeCipherSpec are read", async () => {
    const { transcript: t } = await exchange({ ...STARTTLS, server: { ...STARTTLS.server, groups: "P-256" } }, newMarker());
    const handshakes = t.events.filter((e): e is TlsHandshakeEvent => e.kind === "tls-handshake");
    const sequence = handshakes.map((e) => `${e.from}:${(e.messages ?? ["encrypted"]).join("+")}`);
    // TLS 1.3 middlebox compatibility (RFC 8446 D.4): a ChangeCipherSpec that encrypts nothing.
    expect(sequence.slice(0, 4)).toEqual(["client:ClientHello", "server:HelloRetryRequest", "server:ChangeCipherSpec", "client:ChangeCipherSpec"]);
    expect(handshakes.filter((e) => e.message === "ClientHello")).toHaveLength(2);
    expect(hello(t, "ServerHello")).toMatchObject({ chosenVersion: "TLSv1.3", keyExchange: "secp256r1" });
    expect(handshakes.filter((e) => e.keyExchange !== undefined)).toHaveLength(1);
  });

  it("(d) the server answers STARTTLS with 454: the dialogue stays in clear text", async () => {
    const marker = newMarker();
    const { transcript: t } = await exchange({ ...STARTTLS, server: { offerStarttls: true, starttlsReply: "454" } }, marker);
    expect(t.sawStarttlsOffer).toBe(true);
    expect(t.sawStarttlsCommand).toBe(true);
    expect(t.events.some((e) => e.kind === "starttls" || e.kind.startsWith("tls"))).toBe(false);
    expect(smtpLines(t, "server")).toContain("454 4.7.0 TLS not available due to local problem");
    expect(smtpLines(t, "client")).toContain(`the marker of this message is ${marker}.`);
    expect(t.plaintextBody).toBe(true);
  });

  it("(e) garbage after STARTTLS: nothing throws, the readable part is recorded", async () => {
    const marker = newMarker();
    const { chunks, transcript: t } = await exchange({ ...STARTTLS, client: { useStarttls: true, afterStarttls: "garbage" } }, marker);
    expect(t.events.some((e) => e.kind === "starttls")).toBe(true);
    // The fake handshake record is counted, not understood.
    const fake = t.events.find((e) => e.kind === "tls-handshake" && e.from === "client");
    expect(fake).toMatchObject({ message: "other", recordBytes: 13 });
    // What follows is not TLS: an eavesdropper reads it, marker included.
    expect(smtpLines(t, "client")).toContain("MAIL FROM:<alice@infomaniak.test>");
    expect(t.plaintextBody).toBe(true);
    // Replayed in 1-byte chunks, the garbage still reads the same way.
    expect(withoutTimes(replay(chunks, marker, bytewise).events)).toEqual(withoutTimes(replay(chunks, marker).events));
  });
});

// ---------------------------------------------------------------- recorded fixtures

describe("HopRecorder on recorded streams (test/fixtures/wire)", () => {
  it("reads the STARTTLS capture the same whether chunks are whole or single bytes", () => {
    const { marker, chunks } = loadFixture("starttls-tls13.json");
    const whole = replay(chunks, marker);
    expect(whole.plaintextBody).toBe(false);
    expect(whole.sawStarttlsOffer && whole.sawStarttlsCommand).toBe(true);
    expect(hello(whole, "ClientHello")).toMatchObject({ sni: "mx.iroco.test" });
    expect(hello(whole, "ClientHello")?.offeredVersions).toEqual(expect.arrayContaining(["TLSv1.3", "TLSv1.2"]));
    expect(hello(whole, "ServerHello")).toMatchObject({ chosenVersion: "TLSv1.3", keyExchange: "x25519" });
    expect(dataTotals(whole, "client").records).toBeGreaterThan(0);

    const single = replay(chunks, marker, bytewise);
    expect(withoutTimes(single.events)).toEqual(withoutTimes(whole.events));
    expect(single.plaintextBody).toBe(false);
  });

  it("reads the STARTTLS capture the same when all chunks of a direction are merged or cut at random", () => {
    const { marker, chunks } = loadFixture("starttls-tls13.json");
    const whole = withoutTimes(replay(chunks, marker).events);
    let seed = 7;
    const random = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const randomCuts = (chunk: Buffer): Buffer[] => {
      const pieces: Buffer[] = [];
      for (let i = 0; i < chunk.length; ) {
        const n = 1 + Math.floor(random() * 9);
        pieces.push(chunk.subarray(i, i + n));
        i += n;
      }
      return pieces;
    };
    expect(withoutTimes(replay(chunks, marker, randomCuts).events)).toEqual(whole);
  });

  it("reads the curve of the TLS 1.2 capture off its ServerKeyExchange, whole or split at every byte", () => {
    const { marker, chunks } = loadFixture("starttls-tls12-p256.json");
    const whole = replay(chunks, marker);
    const named = whole.events.filter((e) => e.kind === "tls-handshake" && e.keyExchange !== undefined);
    expect(named.map((e) => e.kind === "tls-handshake" && [e.from, e.keyExchange])).toEqual([["server", "secp256r1"]]);
    expect(withoutTimes(replay(chunks, marker, bytewise).events)).toEqual(withoutTimes(whole.events));
  });

  it("reads X25519MLKEM768 off a real Postfix 3.10 ServerHello, whole or split at every byte", () => {
    const { marker, chunks } = loadFixture("postfix-3.10-x25519mlkem768.json");
    const whole = replay(chunks, marker);
    const serverHello = hello(whole, "ServerHello");
    expect(serverHello).toMatchObject({ chosenVersion: "TLSv1.3", cipherSuite: "TLS_AES_256_GCM_SHA384", keyExchange: "X25519MLKEM768" });
    // The hybrid share (ML-KEM-768 ciphertext + X25519 key) makes this ServerHello over a kilobyte.
    expect(serverHello?.recordBytes).toBeGreaterThan(1000);
    expect(withoutTimes(replay(chunks, marker, bytewise).events)).toEqual(withoutTimes(whole.events));
  });

  it("finds the marker in the plaintext capture, split at every byte", () => {
    const { marker, chunks } = loadFixture("plaintext.json");
    const whole = replay(chunks, marker);
    const single = replay(chunks, marker, bytewise);
    expect(whole.plaintextBody).toBe(true);
    expect(single.plaintextBody).toBe(true);
    expect(withoutTimes(single.events)).toEqual(withoutTimes(whole.events));
    expect(smtpLines(single, "client")).toContain(`the marker of this message is ${marker}.`);
    expect(replay(chunks, "lab-not-this-one").plaintextBody).toBe(false);
  });
});

// ---------------------------------------------------------------- hand-made records

/** A record: content type, version 0x0303, the fragment. */
const record = (type: number, fragment: Buffer): Buffer => {
  const header = Buffer.from([type, 0x03, 0x03, 0, 0]);
  header.writeUInt16BE(fragment.length, 3);
  return Buffer.concat([header, fragment]);
};
const u16 = (n: number): Buffer => Buffer.from([n >> 8, n & 0xff]);
const vec2 = (b: Buffer): Buffer => Buffer.concat([u16(b.length), b]);
const handshake = (type: number, body: Buffer): Buffer =>
  Buffer.concat([Buffer.from([type, 0, body.length >> 8, body.length & 0xff]), body]);

function clientHelloWithGrease(): Buffer {
  const sniName = Buffer.from("second.iroco.test");
  const sni = vec2(Buffer.concat([Buffer.from([0]), vec2(sniName)]));
  const versions = Buffer.from([8, 0x7a, 0x7a, 0x03, 0x04, 0x03, 0x03, 0xea, 0xea]);
  const extensions = Buffer.concat([
    u16(0x2a2a), vec2(Buffer.alloc(0)), // GREASE extension
    u16(0x0000), vec2(sni),
    u16(0x002b), vec2(versions),
  ]);
  const body = Buffer.concat([
    u16(0x0303), Buffer.alloc(32, 1), Buffer.from([0]),
    vec2(Buffer.from([0x13, 0x01])), Buffer.from([1, 0]), vec2(extensions),
  ]);
  return handshake(1, body);
}

/** Greeting, EHLO, STARTTLS and its 220: both directions then speak TLS. */
function afterStarttls(recorder: HopRecorder): void {
  recorder.serverBytes(Buffer.from("220 mx.iroco.test ESMTP\r\n"));
  recorder.clientBytes(Buffer.from("EHLO a.test\r\n"));
  recorder.serverBytes(Buffer.from("250-mx.iroco.test\r\n250 STARTTLS\r\n"));
  recorder.clientBytes(Buffer.from("STARTTLS\r\n"));
  recorder.serverBytes(Buffer.from("220 2.0.0 Ready\r\n"));
}

describe("HopRecorder on hand-made records", () => {
  it("ignores GREASE in the offered versions and reads SNI past a GREASE extension", () => {
    const recorder = new HopRecorder();
    afterStarttls(recorder);
    // The ClientHello split across two records, the second header split across chunks.
    const message = clientHelloWithGrease();
    const first = record(22, message.subarray(0, 20));
    const second = record(22, message.subarray(20));
    recorder.clientBytes(Buffer.concat([first, second.subarray(0, 3)]));
    recorder.clientBytes(second.subarray(3));
    const t = recorder.transcript("x");
    expect(hello(t, "ClientHello")).toMatchObject({
      sni: "second.iroco.test",
      offeredVersions: ["TLSv1.3", "TLSv1.2"],
      legacyVersion: "TLSv1.2",
      recordBytes: second.length,
    });
  });

  it("reads a plaintext alert, and treats a HelloRetryRequest as no ServerHello", () => {
    const recorder = new HopRecorder();
    afterStarttls(recorder);
    const hrrRandom = Buffer.from("cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c", "hex");
    const hrr = Buffer.concat([
      u16(0x0303), hrrRandom, Buffer.from([0]), u16(0x1301), Buffer.from([0]),
      vec2(Buffer.concat([u16(0x002b), vec2(u16(0x0304))])),
    ]);
    recorder.serverBytes(record(22, handshake(2, hrr)));
    recorder.serverBytes(record(21, Buffer.from([2, 40])));
    const t = recorder.transcript("x");
    expect(hello(t, "ServerHello")).toBeUndefined();
    expect(t.events.at(-2)).toMatchObject({ kind: "tls-handshake", messages: ["HelloRetryRequest"], chosenVersion: "TLSv1.3" });
    expect(t.events.at(-1)).toMatchObject({ kind: "tls-alert", from: "server", level: "fatal", description: "handshake_failure" });
  });

  it("takes the key exchange from the ServerHello after a HelloRetryRequest, not from the retry request", () => {
    const recorder = new HopRecorder();
    afterStarttls(recorder);
    const hrrRandom = Buffer.from("cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c", "hex");
    const serverHello = (random: Buffer, keyShare: Buffer): Buffer =>
      handshake(2, Buffer.concat([
        u16(0x0303), random, Buffer.from([0]), u16(0x1302), Buffer.from([0]),
        vec2(Buffer.concat([u16(0x002b), vec2(u16(0x0304)), u16(0x0033), vec2(keyShare)])),
      ]));
    // The retry request asks for secp256r1 (selected_group only); the real ServerHello
    // answers with an X25519MLKEM768 share (1120 bytes: ML-KEM-768 ciphertext + X25519 key).
    recorder.serverBytes(record(22, serverHello(hrrRandom, u16(0x0017))));
    recorder.serverBytes(record(22, serverHello(randomBytes(32), Buffer.concat([u16(0x11ec), vec2(randomBytes(1120))]))));
    const t = recorder.transcript("x");
    const handshakes = t.events.filter((e) => e.kind === "tls-handshake");
    expect(handshakes.map((e) => e.kind === "tls-handshake" && [e.messages, e.keyExchange])).toEqual([
      [["HelloRetryRequest"], undefined],
      [["ServerHello"], "X25519MLKEM768"],
    ]);
  });

  it("aggregates consecutive application data and keeps a pipelined STARTTLS in order", () => {
    const recorder = new HopRecorder();
    recorder.serverBytes(Buffer.from("220-mx.iroco.test ESMTP\r\n220 welcome\r\n"));
    recorder.clientBytes(Buffer.from("EHLO a.test\r\n"));
    recorder.serverBytes(Buffer.from("250-mx.iroco.test\r\n250-STARTTLS\r\n250 8BITMIME\r\n"));
    recorder.clientBytes(Buffer.from("RSET\r\nSTARTTLS\r\n"));
    recorder.serverBytes(Buffer.from("250 2.0.0 Ok\r\n220 2.0.0 Ready\r\n"));
    recorder.clientBytes(Buffer.concat([record(23, Buffer.alloc(10)), record(23, Buffer.alloc(20))]));
    recorder.serverBytes(record(23, Buffer.alloc(30)));
    recorder.clientBytes(record(23, Buffer.alloc(1)));
    const t = recorder.transcript("x");
    expect(t.events.filter((e) => e.kind === "starttls")).toHaveLength(1);
    expect(t.events.filter((e) => e.kind === "tls-data").map(({ at: _at, ...e }) => e)).toEqual([
      { kind: "tls-data", from: "client", records: 2, bytes: 40 },
      { kind: "tls-data", from: "server", records: 1, bytes: 35 },
      { kind: "tls-data", from: "client", records: 1, bytes: 6 },
    ]);
  });

  it("with greeted: true the first reply answers the first command, as inside TLS", () => {
    const feed = (recorder: HopRecorder): Transcript => {
      recorder.clientBytes(Buffer.from("EHLO a.test\r\n"));
      recorder.serverBytes(Buffer.from("250-mx.iroco.test\r\n250 STARTTLS\r\n"));
      recorder.clientBytes(Buffer.from("STARTTLS\r\n"));
      recorder.serverBytes(Buffer.from("220 2.0.0 Ready\r\n"));
      return recorder.transcript("x");
    };
    expect(feed(new HopRecorder({ greeted: true })).events.filter((e) => e.kind === "starttls")).toHaveLength(1);
    // By default the 250 is taken for the greeting, so the 220 answers EHLO: no switch.
    expect(feed(new HopRecorder()).events.some((e) => e.kind === "starttls")).toBe(false);
  });

  it("records decrypted lines among the TLS records, in the order read; only they hold the body", () => {
    const recorder = new HopRecorder();
    afterStarttls(recorder);
    recorder.clientBytes(record(23, Buffer.alloc(30)));
    recorder.decryptedBytes("client", Buffer.from("EHLO a.test\r\n"));
    recorder.decryptedBytes("server", Buffer.from("250-mx.iroco.test\r\n250 8BITMIME\r\n"));
    recorder.serverBytes(record(23, Buffer.alloc(40)));
    recorder.clientBytes(record(23, Buffer.alloc(50)));
    // Pipelined, and split mid-line: lines are assembled and replies paired inside too.
    recorder.decryptedBytes("client", Buffer.from("MAIL FROM:<a@a.test>\r\nRCPT TO:<b@b.test>\r\nDA"));
    recorder.decryptedBytes("client", Buffer.from("TA\r\n"));
    recorder.decryptedBytes("server", Buffer.from("250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 go ahead\r\n"));
    recorder.clientBytes(record(23, Buffer.alloc(60)));
    recorder.decryptedBytes("client", Buffer.from("Subject: x\r\n\r\nlab-secret\r\n.\r\n"));
    recorder.close("client");
    recorder.close("server");
    const t = recorder.transcript("lab-secret");
    expect(t.plaintextBody).toBe(false);
    expect(t.attackerReadBody).toBe(true);
    expect(recorder.transcript("lab-other").attackerReadBody).toBe(false);

    const afterSwitch = t.events.slice(t.events.findIndex((e) => e.kind === "starttls") + 1);
    const shown = afterSwitch.map((e) =>
      e.kind === "smtp" ? `${e.from} ${e.decrypted ? "decrypted" : "clear"} ${e.line}` : `${e.kind} ${"from" in e ? e.from : ""}`,
    );
    expect(shown).toEqual([
      "tls-data client",
      "client decrypted EHLO a.test",
      "server decrypted 250-mx.iroco.test",
      "server decrypted 250 8BITMIME",
      "tls-data server",
      // A new event: the records on each side of decrypted lines are not added up.
      "tls-data client",
      "client decrypted MAIL FROM:<a@a.test>",
      "client decrypted RCPT TO:<b@b.test>",
      "client decrypted DATA",
      "server decrypted 250 2.1.0 Ok",
      "server decrypted 250 2.1.5 Ok",
      "server decrypted 354 go ahead",
      "tls-data client",
      "client decrypted Subject: x",
      "client decrypted ",
      "client decrypted lab-secret",
      "client decrypted .",
      "closed client",
      "closed server",
    ]);
    // Without decrypted bytes, there is no attacker's reading to report.
    const passive = new HopRecorder();
    afterStarttls(passive);
    expect(passive.transcript("lab-secret").attackerReadBody).toBeUndefined();
  });

  it("never throws on random bytes, in clear text or after STARTTLS", () => {
    for (let round = 0; round < 50; round++) {
      const recorder = new HopRecorder();
      if (round % 2 === 0) afterStarttls(recorder);
      expect(() => {
        for (let i = 0; i < 20; i++) {
          const bytes = randomBytes(1 + (i * 37) % 300);
          if (i % 3 === 0) bytes[0] = 22;
          if (i % 2 === 0) recorder.clientBytes(bytes);
          else recorder.serverBytes(bytes);
        }
        recorder.close("client");
        recorder.close("server");
        recorder.transcript("lab-x");
      }).not.toThrow();
    }
  });
});
