/**
 * Loopback SMTP for the wire's tests: a line reader that can be detached for
 * the STARTTLS upgrade, a throwaway certificate for mx.iroco.test made by
 * openssl, and small readers of a transcript.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Duplex } from "node:stream";
import tls from "node:tls";
import { afterAll, beforeAll } from "vitest";
import type { Direction, TlsHandshakeEvent, Transcript } from "../../../src/wire/transcript.js";

export const HOST = "127.0.0.1";

export /** CRLF lines off a stream, one reader at a time; detachable for the TLS upgrade. */
class Lines {
  private buffer = "";
  private readonly ready: string[] = [];
  private ended = false;
  private waiter: ((line: string | null) => void) | undefined;
  private readonly onData = (chunk: Buffer): void => {
    this.buffer += chunk.toString("latin1");
    for (let i = this.buffer.indexOf("\r\n"); i >= 0; i = this.buffer.indexOf("\r\n")) {
      this.ready.push(this.buffer.slice(0, i));
      this.buffer = this.buffer.slice(i + 2);
    }
    this.flush();
  };
  private readonly onEnd = (): void => {
    this.ended = true;
    this.flush();
  };

  constructor(readonly stream: Duplex) {
    stream.on("data", this.onData);
    stream.on("end", this.onEnd);
    stream.on("close", this.onEnd);
  }

  private flush(): void {
    const waiter = this.waiter;
    if (!waiter) return;
    const line = this.ready.shift();
    if (line !== undefined || this.ended) {
      this.waiter = undefined;
      waiter(line ?? null);
    }
  }

  next(): Promise<string | null> {
    return new Promise((resolve) => {
      this.waiter = resolve;
      this.flush();
    });
  }

  async reply(): Promise<string[]> {
    const lines: string[] = [];
    for (;;) {
      const line = await this.next();
      if (line === null) throw new Error(`connection closed in a reply: ${JSON.stringify(lines)}`);
      lines.push(line);
      if (/^\d{3}( |$)/.test(line)) return lines;
    }
  }

  send(text: string): void {
    this.stream.write(text);
  }

  detach(): void {
    this.stream.off("data", this.onData);
    this.stream.off("end", this.onEnd);
    this.stream.off("close", this.onEnd);
  }
}

/**
 * A self-signed certificate for mx.iroco.test for this test file: made in
 * beforeAll, removed in afterAll. Call at the top level; read `.context` in tests.
 */
export function useTestCertificate(): { context: tls.SecureContext } {
  const holder = {} as { context: tls.SecureContext };
  let certDir: string | undefined;
  beforeAll(() => {
    certDir = mkdtempSync(path.join(os.tmpdir(), "wire-cert-"));
    const key = path.join(certDir, "key.pem");
    const cert = path.join(certDir, "cert.pem");
    execFileSync(
      "openssl",
      ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=mx.iroco.test", "-days", "1"].concat(["-keyout", key, "-out", cert]),
      { stdio: "ignore" },
    );
    holder.context = tls.createSecureContext({ key: readFileSync(key), cert: readFileSync(cert) });
  });
  afterAll(() => {
    if (certDir) rmSync(certDir, { recursive: true, force: true });
  });
  return holder;
}

export const smtpLines = (t: Transcript, from?: Direction): string[] =>
  t.events.flatMap((e) => (e.kind === "smtp" && (!from || e.from === from) ? [e.line] : []));

export const hello = (t: Transcript, message: "ClientHello" | "ServerHello"): TlsHandshakeEvent | undefined =>
  t.events.find((e): e is TlsHandshakeEvent => e.kind === "tls-handshake" && e.message === message);
