/**
 * The SMTP dialogue model (src/wire/dialogue.ts) on recorded streams: the
 * byte streams in test/fixtures/wire replayed through the recorder, streams
 * cut at awkward places, BDAT chunks that carry command-like lines, and the
 * proxy following a BDAT chunk through the same model.
 */
import { once } from "node:events";
import { readFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { HOST, Lines, transcripts, within } from "./helpers/loopbackSmtp.js";
import { LineFramer, markedEvents, MAX_LINE_BYTES, SmtpDialogue } from "../../src/wire/dialogue.js";
import { startWireProxy } from "../../src/wire/proxy.js";
import { HopRecorder } from "../../src/wire/recorder.js";
import type { Direction, SmtpEvent, Transcript, WireEvent } from "../../src/wire/transcript.js";

const FIXTURES = path.resolve(import.meta.dirname, "../fixtures/wire");

interface Recording {
  marker: string;
  chunks: { from: Direction; base64: string }[];
}

function recorded(name: string): { marker: string; chunks: { from: Direction; data: Buffer }[] } {
  const file = JSON.parse(readFileSync(path.join(FIXTURES, name), "utf8")) as Recording;
  return { marker: file.marker, chunks: file.chunks.map((c) => ({ from: c.from, data: Buffer.from(c.base64, "base64") })) };
}

/** Feeds chunks to the recorder as they crossed. */
function feed(recorder: HopRecorder, chunks: readonly { from: Direction; data: Buffer }[]): void {
  for (const chunk of chunks) {
    if (chunk.from === "client") recorder.clientBytes(chunk.data);
    else recorder.serverBytes(chunk.data);
  }
}

/** Feeds chunks as they crossed, then closes both sides. */
function record(chunks: readonly { from: Direction; data: Buffer }[], marker = "lab-marker", recorder = new HopRecorder()): Transcript {
  feed(recorder, chunks);
  recorder.close("client");
  recorder.close("server");
  return recorder.transcript(marker);
}

/** Every byte of the stream in its own chunk: no line, reply or chunk boundary is given away. */
function byteByByte(chunks: readonly { from: Direction; data: Buffer }[]): { from: Direction; data: Buffer }[] {
  return chunks.flatMap((chunk) => [...chunk.data].map((byte) => ({ from: chunk.from, data: Buffer.from([byte]) })));
}

const crlf = (from: Direction, ...lines: string[]) => ({ from, data: Buffer.from(lines.map((l) => `${l}\r\n`).join("")) });

const smtpEvents = (t: Transcript | readonly WireEvent[]): SmtpEvent[] =>
  ("events" in t ? t.events : t).filter((e): e is SmtpEvent => e.kind === "smtp");

/** "from role command phase: line", the marks a reader of the transcript relies on. */
const marks = (t: Transcript | readonly WireEvent[]): string[] =>
  smtpEvents(t).map((e) => `${e.from} ${e.role ?? "-"} ${e.command ?? "-"} ${e.phase ?? "-"}: ${e.line}`);

describe("the dialogue on the recorded plaintext session", () => {
  const { marker, chunks } = recorded("plaintext.json");

  it("marks the greeting, each command, each reply with the command it answers, and DATA content", () => {
    expect(marks(record(chunks, marker))).toEqual([
      "server greeting - clear: 220 mx.iroco.test ESMTP starttls-lab",
      "client command EHLO clear: EHLO smtp.infomaniak.test",
      "server reply EHLO clear: 250-mx.iroco.test",
      "server reply EHLO clear: 250-PIPELINING",
      "server reply EHLO clear: 250-SIZE 10240000",
      "server reply EHLO clear: 250-ENHANCEDSTATUSCODES",
      "server reply EHLO clear: 250-8BITMIME",
      "server reply EHLO clear: 250 SMTPUTF8",
      "client command MAIL clear: MAIL FROM:<alice@infomaniak.test>",
      "server reply MAIL clear: 250 2.1.0 Ok",
      "client command RCPT clear: RCPT TO:<bob@iroco.test>",
      "server reply RCPT clear: 250 2.1.5 Ok",
      "client command DATA clear: DATA",
      "server reply DATA clear: 354 End data with <CR><LF>.<CR><LF>",
      "client content DATA clear: From: Alice <alice@infomaniak.test>",
      "client content DATA clear: To: Bob <bob@iroco.test>",
      "client content DATA clear: Subject: Hello Bob",
      "client content DATA clear: ",
      "client content DATA clear: Hello Bob,",
      `client content DATA clear: the marker of this message is ${marker}.`,
      "client end-of-data DATA clear: .",
      "server reply . clear: 250 2.0.0 Ok: queued as 4XyZ1a2B3c",
      "client command QUIT clear: QUIT",
      "server reply QUIT clear: 221 2.0.0 Bye",
    ]);
  });

  it("marks the same whatever the chunks: byte by byte gives the same dialogue", () => {
    expect(marks(record(byteByByte(chunks), marker))).toEqual(marks(record(chunks, marker)));
  });

  it("marks a transcript recorded without marks exactly as the recorder does", () => {
    const transcript = record(chunks, marker);
    const unmarked = transcript.events.map((e) => {
      if (e.kind !== "smtp") return e;
      const { role: _role, command: _command, phase: _phase, ...bare } = e;
      return bare;
    });
    expect(smtpEvents(unmarked).some((e) => e.role !== undefined)).toBe(false);
    expect(marks(markedEvents(unmarked))).toEqual(marks(transcript));
  });
});

describe("pipelining and multi-line replies", () => {
  it("pairs pipelined commands with their replies, in order, even when a reply line is cut", () => {
    const t = record([
      crlf("server", "220-mx.iroco.test ESMTP", "220 welcome"),
      crlf("client", "EHLO a.test"),
      { from: "server", data: Buffer.from("250-mx.iroco.test\r\n250-PIPE") },
      { from: "server", data: Buffer.from("LINING\r\n250 8BITMIME\r\n") },
      crlf("client", "MAIL FROM:<a@a.test>", "RCPT TO:<b@b.test>", "RCPT TO:<c@b.test>", "DATA"),
      crlf("server", "250 2.1.0 Ok", "550 5.1.1 <b@b.test>: unknown", "250 2.1.5 Ok", "354 go ahead"),
    ]);
    expect(marks(t)).toEqual([
      "server greeting - clear: 220-mx.iroco.test ESMTP",
      "server greeting - clear: 220 welcome",
      "client command EHLO clear: EHLO a.test",
      "server reply EHLO clear: 250-mx.iroco.test",
      "server reply EHLO clear: 250-PIPELINING",
      "server reply EHLO clear: 250 8BITMIME",
      "client command MAIL clear: MAIL FROM:<a@a.test>",
      "client command RCPT clear: RCPT TO:<b@b.test>",
      "client command RCPT clear: RCPT TO:<c@b.test>",
      "client command DATA clear: DATA",
      "server reply MAIL clear: 250 2.1.0 Ok",
      "server reply RCPT clear: 550 5.1.1 <b@b.test>: unknown",
      "server reply RCPT clear: 250 2.1.5 Ok",
      "server reply DATA clear: 354 go ahead",
    ]);
  });
});

describe("BDAT", () => {
  /** A chunk of exactly these bytes: lines that look like commands, and no final CRLF. */
  const FIRST_CHUNK = "Subject: x\r\n\r\nQUIT\r\nSTARTTLS\r\n.\r\n";
  const LAST_CHUNK = "the body ends here";
  const session = [
    crlf("server", "220 mx.iroco.test ESMTP"),
    crlf("client", "EHLO a.test"),
    crlf("server", "250-mx.iroco.test", "250 CHUNKING"),
    crlf("client", "MAIL FROM:<a@a.test>"),
    crlf("server", "250 2.1.0 Ok"),
    { from: "client" as const, data: Buffer.from(`BDAT ${FIRST_CHUNK.length}\r\n${FIRST_CHUNK}`) },
    crlf("server", "250 2.0.0 chunk received"),
    { from: "client" as const, data: Buffer.from(`BDAT ${LAST_CHUNK.length} LAST\r\n${LAST_CHUNK}RSET\r\n`) },
    crlf("server", "250 2.0.0 Ok: queued", "250 2.0.0 Ok"),
  ];

  it("reads chunk bytes as content by their count, never as commands, and pairs the replies with BDAT", () => {
    const expected = [
      "server greeting - clear: 220 mx.iroco.test ESMTP",
      "client command EHLO clear: EHLO a.test",
      "server reply EHLO clear: 250-mx.iroco.test",
      "server reply EHLO clear: 250 CHUNKING",
      "client command MAIL clear: MAIL FROM:<a@a.test>",
      "server reply MAIL clear: 250 2.1.0 Ok",
      `client command BDAT clear: BDAT ${FIRST_CHUNK.length}`,
      "client content BDAT clear: Subject: x",
      "client content BDAT clear: ",
      "client content BDAT clear: QUIT",
      "client content BDAT clear: STARTTLS",
      "client content BDAT clear: .",
      "server reply BDAT clear: 250 2.0.0 chunk received",
      `client command BDAT clear: BDAT ${LAST_CHUNK.length} LAST`,
      `client content BDAT clear: ${LAST_CHUNK}`,
      // The chunk ended without a line ending: the next command starts right after its last byte.
      "client command RSET clear: RSET",
      // The reply to BDAT … LAST is the reply to the whole message.
      "server reply . clear: 250 2.0.0 Ok: queued",
      "server reply RSET clear: 250 2.0.0 Ok",
    ];
    const t = record(session, "the body ends");
    expect(marks(t)).toEqual(expected);
    expect(t.sawStarttlsCommand).toBe(false);
    expect(t.plaintextBody).toBe(true);
  });

  it("counts chunk bytes across any cut of the stream", () => {
    const cut = byteByByte(session);
    const t = record(cut);
    const commands = smtpEvents(t).filter((e) => e.role === "command").map((e) => e.command);
    expect(commands).toEqual(["EHLO", "MAIL", "BDAT", "BDAT", "RSET"]);
    expect(smtpEvents(t).filter((e) => e.role === "content").map((e) => e.line).join("")).toBe(
      `${FIRST_CHUNK}${LAST_CHUNK}`.replace(/\r\n/g, ""),
    );
  });

  it("the model alone: the chunk size and LAST, and the bytes it still expects", () => {
    const dialogue = new SmtpDialogue({ greeted: true });
    expect(dialogue.clientLine("BDAT 12 LAST")).toEqual({ role: "command", command: "BDAT" });
    expect(dialogue.chunkBytesLeft).toBe(12);
    expect(dialogue.expectsCommand()).toBe(false);
    expect(dialogue.clientFrame({ kind: "chunk", bytes: Buffer.from("0123456789") })).toEqual({ role: "content", command: "BDAT" });
    expect(dialogue.chunkBytesLeft).toBe(2);
    dialogue.clientFrame({ kind: "chunk", bytes: Buffer.from("ab") });
    expect(dialogue.expectsCommand()).toBe(true);
    expect(dialogue.serverLine("250 2.0.0 Ok: queued")).toMatchObject({ role: "reply", command: ".", final: true });
    dialogue.clientLine("BDAT 3");
    dialogue.clientFrame({ kind: "chunk", bytes: Buffer.from("abc") });
    expect(dialogue.serverLine("250 2.0.0 3 octets received")).toMatchObject({ role: "reply", command: "BDAT", final: true });
  });

  it("the proxy follows the chunk too: a STARTTLS inside a chunk reaches the server untouched (strip-starttls)", async () => {
    const chunk = "STARTTLS\r\n";
    const received: Buffer[] = [];
    let serverLines: Lines | undefined;
    const upstream = net.createServer((socket) => {
      socket.on("data", (data: Buffer) => received.push(data));
      serverLines = new Lines(socket);
      socket.write("220 mx.iroco.test ESMTP\r\n");
    });
    upstream.listen(0, HOST);
    await once(upstream, "listening");
    const upstreamPort = (upstream.address() as net.AddressInfo).port;
    const hops = transcripts();
    const proxy = await startWireProxy({
      listenPort: 0,
      listenHost: HOST,
      upstream: { host: HOST, port: upstreamPort },
      mode: () => "strip-starttls",
      marker: () => "none",
      onTranscript: (t) => hops.push(t),
    });
    try {
      const client = net.connect(proxy.port, HOST);
      const lines = new Lines(client);
      expect(await within(lines.reply(), 5000, "the greeting")).toEqual(["220 mx.iroco.test ESMTP"]);
      client.write("EHLO a.test\r\n");
      const server = serverLines;
      if (!server) throw new Error("the proxy did not connect upstream");
      expect(await within(server.next(), 5000, "EHLO at the server")).toBe("EHLO a.test");
      server.send("250-mx.iroco.test\r\n250-CHUNKING\r\n250 STARTTLS\r\n");
      expect(await within(lines.reply(), 5000, "the EHLO reply")).toEqual(["250-mx.iroco.test", "250 CHUNKING"]);
      client.write(`BDAT ${chunk.length} LAST\r\n${chunk}`);
      expect(await within(server.next(), 5000, "BDAT at the server")).toBe(`BDAT ${chunk.length} LAST`);
      expect(await within(server.next(), 5000, "the chunk at the server")).toBe("STARTTLS");
      server.send("250 2.0.0 Ok: queued\r\n");
      expect(await within(lines.reply(), 5000, "the reply to BDAT")).toEqual(["250 2.0.0 Ok: queued"]);
      client.end();
      const hop = await within(hops.next(), 5000, "the transcript");
      expect(Buffer.concat(received).toString("latin1")).toBe(`EHLO a.test\r\nBDAT ${chunk.length} LAST\r\n${chunk}`);
      expect(hop.transcript.events.filter((e) => e.kind === "tampered").map((e) => (e.kind === "tampered" ? e.what : ""))).toEqual([
        "removed STARTTLS from the EHLO reply",
      ]);
      expect(marks(hop.transcript).slice(-3)).toEqual([
        `client command BDAT clear: BDAT ${chunk.length} LAST`,
        "client content BDAT clear: STARTTLS",
        "server reply . clear: 250 2.0.0 Ok: queued",
      ]);
    } finally {
      await proxy.close();
      upstream.close();
    }
  });
});

describe("the switch to TLS, and what a man in the middle reads", () => {
  it("marks everything before the 220 to STARTTLS clear, and reads TLS records after it (recorded TLS 1.3 session)", () => {
    const { marker, chunks } = recorded("starttls-tls13.json");
    const t = record(chunks, marker);
    const switchAt = t.events.findIndex((e) => e.kind === "starttls");
    expect(switchAt).toBeGreaterThan(0);
    const before = smtpEvents(t.events.slice(0, switchAt));
    expect(before.every((e) => e.phase === "clear")).toBe(true);
    expect(before.at(-2)).toMatchObject({ role: "command", command: "STARTTLS" });
    expect(before.at(-1)).toMatchObject({ role: "reply", command: "STARTTLS", line: expect.stringMatching(/^220 /) });
    expect(smtpEvents(t.events.slice(switchAt))).toEqual([]);
    expect(t.events.slice(switchAt).some((e) => e.kind === "tls-handshake" && e.message === "ClientHello")).toBe(true);
  });

  it("stays in clear when STARTTLS is refused", () => {
    const t = record([
      crlf("server", "220 mx"),
      crlf("client", "EHLO a"),
      crlf("server", "250 STARTTLS"),
      crlf("client", "STARTTLS"),
      crlf("server", "454 4.7.0 TLS not available due to local problem"),
      crlf("client", "MAIL FROM:<a@a>"),
      crlf("server", "250 Ok"),
    ]);
    expect(t.events.some((e) => e.kind === "starttls")).toBe(false);
    expect(marks(t).slice(-4)).toEqual([
      "client command STARTTLS clear: STARTTLS",
      "server reply STARTTLS clear: 454 4.7.0 TLS not available due to local problem",
      "client command MAIL clear: MAIL FROM:<a@a>",
      "server reply MAIL clear: 250 Ok",
    ]);
  });

  it("marks clear bytes after the switch raw, in phase tls: not TLS after all", () => {
    const t = record([
      crlf("server", "220 mx"),
      crlf("client", "STARTTLS"),
      crlf("server", "220 2.0.0 Ready to start TLS"),
      crlf("client", "EHLO a"),
    ]);
    expect(marks(t).at(-1)).toBe("client raw - tls: EHLO a");
  });

  it("marks the dialogue read inside TLS decrypted: the first reply answers EHLO, DATA content included", () => {
    const recorder = new HopRecorder();
    feed(recorder, [crlf("server", "220 mx"), crlf("client", "STARTTLS"), crlf("server", "220 2.0.0 Ready")]);
    recorder.decryptedBytes("client", Buffer.from("EHLO a.test\r\n"));
    recorder.decryptedBytes("server", Buffer.from("250-mx.iroco.test\r\n250 8BITMIME\r\n"));
    recorder.decryptedBytes("client", Buffer.from("MAIL FROM:<a@a.test>\r\nDATA\r\n"));
    recorder.decryptedBytes("server", Buffer.from("250 2.1.0 Ok\r\n354 go ahead\r\n"));
    recorder.decryptedBytes("client", Buffer.from("Subject: x\r\n\r\nlab-secret\r\n.\r\n"));
    recorder.decryptedBytes("server", Buffer.from("250 2.0.0 Ok: queued\r\n"));
    const t = recorder.transcript("lab-secret");
    const inside = smtpEvents(t).filter((e) => e.decrypted === true);
    expect(inside.every((e) => e.phase === "decrypted")).toBe(true);
    expect(marks(inside)).toEqual([
      "client command EHLO decrypted: EHLO a.test",
      "server reply EHLO decrypted: 250-mx.iroco.test",
      "server reply EHLO decrypted: 250 8BITMIME",
      "client command MAIL decrypted: MAIL FROM:<a@a.test>",
      "client command DATA decrypted: DATA",
      "server reply MAIL decrypted: 250 2.1.0 Ok",
      "server reply DATA decrypted: 354 go ahead",
      "client content DATA decrypted: Subject: x",
      "client content DATA decrypted: ",
      "client content DATA decrypted: lab-secret",
      "client end-of-data DATA decrypted: .",
      "server reply . decrypted: 250 2.0.0 Ok: queued",
    ]);
    expect(t.attackerReadBody).toBe(true);
    expect(t.plaintextBody).toBe(false);
  });
});

describe("LineFramer", () => {
  it("passes an over-long line on in pieces, up to its line ending, and frames the next line again", () => {
    const framer = new LineFramer();
    framer.push(Buffer.alloc(MAX_LINE_BYTES, 0x61));
    expect(framer.next()).toMatchObject({ kind: "piece" });
    framer.push(Buffer.from("aaa\r\nQUIT\r\n"));
    expect(framer.next()).toMatchObject({ kind: "piece", bytes: Buffer.from("aaa\r\n") });
    expect(framer.next()).toMatchObject({ kind: "line", bytes: Buffer.from("QUIT\r\n") });
    expect(framer.next()).toBeUndefined();
  });

  it("waits for the rest of a line", () => {
    const framer = new LineFramer();
    framer.push(Buffer.from("EHL"));
    expect(framer.next()).toBeUndefined();
    framer.push(Buffer.from("O a\r\n"));
    expect(framer.next()).toMatchObject({ kind: "line", bytes: Buffer.from("EHLO a\r\n") });
  });
});
