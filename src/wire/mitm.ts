/**
 * The wire's "mitm" mode after the server's 220 to STARTTLS: the wire plays
 * the TLS server towards the client, with its own certificate, and the TLS
 * client towards the real server, and relays the decrypted dialogue between
 * the two TLS sessions.
 *
 * The client-facing leg must stay observable: the recorder has to see the
 * bytes exactly as they cross it (the client's TLS records and those of the
 * wire's TLS server). Handing the raw net.Socket to a TLSSocket would let
 * Node read its file descriptor directly and those bytes would never surface
 * in JavaScript; so the TLS server runs over ClientLeg, a Duplex the hop feeds
 * with the raw bytes it read, and whose writes the hop records and sends.
 * Towards the server nothing is recorded: TLS runs over the upstream socket
 * itself.
 *
 * The decrypted bytes go to the recorder's decryptedBytes(), which records
 * the SMTP lines inside TLS (what the attacker read).
 *
 * Runs inside the wire container on Debian bookworm's nodejs 18: Node 18 APIs
 * only, no npm dependencies.
 */
import type net from "node:net";
import { Duplex } from "node:stream";
import tls from "node:tls";
import type { HopRecorder } from "./recorder.js";
import type { Direction } from "./transcript.js";

/** The wire's own certificate and key (PEM), presented to the client in mode "mitm". */
export interface MitmCertificate {
  certPem: string;
  keyPem: string;
}

export const TAMPERED_MITM = "terminated TLS with the wire's own certificate and re-encrypted to the server";
export const TAMPERED_MITM_UNAVAILABLE = "mitm asked for but the wire has no certificate: relayed as in pass";

/** The lowest TLS version the wire accepts from the real server. */
const UPSTREAM_MIN_VERSION: tls.SecureVersion = "TLSv1.2";

/**
 * The client-facing leg as a stream for the wire's TLS server: what the hop
 * pushes in is what the client sent; what the TLS server writes goes to
 * `send`, which records it and writes it to the client's socket.
 */
class ClientLeg extends Duplex {
  constructor(
    private readonly send: (chunk: Buffer) => void,
    private readonly wantMore: () => void,
    private readonly finish: () => void,
  ) {
    super();
  }

  override _read(): void {
    this.wantMore();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    // Completed at once: a write left pending in the TLS layer while the
    // connection is torn down only delays the teardown.
    this.send(chunk);
    callback();
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.finish();
    callback();
  }
}

export interface MitmHop {
  recorder: HopRecorder;
  client: net.Socket;
  upstream: net.Socket;
  secureContext: tls.SecureContext;
  /** A TLS leg is over: the hop counts that side as closed. */
  sideClosed: (side: Direction) => void;
}

/** Pauses `source` until `sink` has written what it holds. */
function pauseUntilDrained(source: { pause(): unknown; resume(): unknown; isPaused(): boolean }, sink: net.Socket): void {
  if (source.isPaused()) return;
  source.pause();
  sink.once("drain", () => source.resume());
}

/** One hop's TLS interception, from the server's 220 to STARTTLS until both legs are closed. */
export class MitmSession {
  private readonly leg: ClientLeg;
  private readonly clientTls: tls.TLSSocket;
  private upstreamTls: tls.TLSSocket | undefined;
  /** Both TLS sessions are up and the decrypted dialogue flows. */
  private relaying = false;
  private over = false;

  constructor(private readonly hop: MitmHop) {
    const { client, recorder } = hop;
    this.leg = new ClientLeg(
      (chunk) => this.toClient(chunk),
      () => {
        if (!client.destroyed) client.resume();
      },
      () => {
        if (!client.destroyed && !client.writableEnded) client.end();
      },
    );
    recorder.tampered("server", TAMPERED_MITM);
    this.clientTls = new tls.TLSSocket(this.leg, { isServer: true, secureContext: hop.secureContext });
    // The client finished its handshake with the wire: now the wire opens its own towards the server.
    this.clientTls.once("secure", () => this.connectUpstream());
    this.clientTls.on("error", () => this.abort());
    this.clientTls.on("end", () => this.clientTlsEnded());
    this.clientTls.on("close", () => this.clientTlsClosed());
  }

  /** Raw bytes from the client (already recorded by the hop). */
  fromClient(chunk: Buffer): void {
    if (this.over || this.leg.destroyed) return;
    if (!this.leg.push(chunk)) this.hop.client.pause();
  }

  /** The client ended its half of the connection. */
  clientEnded(): void {
    if (!this.leg.destroyed) this.leg.push(null);
    // Before the dialogue could start the client gave up (e.g. it rejected
    // the wire's certificate): there is nothing to relay.
    if (!this.relaying) this.abort();
  }

  /** The server ended its half before TLS ran over the upstream socket (later, upstreamTls sees it). */
  serverEnded(): void {
    if (!this.upstreamTls) this.abort();
  }

  /** One raw socket is closed: the other side is ended politely (close_notify where TLS is up). */
  peerClosed(side: Direction): void {
    if (side === "client") {
      if (this.relaying && this.upstreamTls) this.upstreamTls.end();
      else this.abort();
    } else if (!this.clientTls.destroyed) {
      this.clientTls.end();
    }
  }

  /** Cuts both TLS sessions now (the hop destroys the raw sockets). */
  destroy(): void {
    this.over = true;
    this.clientTls.destroy();
    this.upstreamTls?.destroy();
    if (!this.leg.destroyed) this.leg.destroy();
  }

  // ------------------------------------------------------------ the two TLS sessions

  private connectUpstream(): void {
    if (this.over) return;
    const sni = this.clientTls.servername;
    // The server is told the name the client asked for, as an attacker who wants to go unnoticed would.
    const upstreamTls = tls.connect({
      socket: this.hop.upstream,
      rejectUnauthorized: false,
      minVersion: UPSTREAM_MIN_VERSION,
      ...(typeof sni === "string" && sni.length > 0 ? { servername: sni } : {}),
    });
    this.upstreamTls = upstreamTls;
    upstreamTls.once("secureConnect", () => this.relay());
    upstreamTls.on("error", () => this.abort());
    upstreamTls.on("end", () => this.upstreamTlsEnded());
    upstreamTls.on("close", () => this.hop.sideClosed("server"));
  }

  /** Both handshakes are done: the decrypted dialogue flows both ways, recorded as it passes. */
  private relay(): void {
    const upstreamTls = this.upstreamTls;
    if (this.over || !upstreamTls) return;
    this.relaying = true;
    const { recorder } = this.hop;
    this.clientTls.on("data", (data: Buffer) => {
      recorder.decryptedBytes("client", data);
      if (!upstreamTls.write(data)) pauseUntilDrained(this.clientTls, upstreamTls);
    });
    upstreamTls.on("data", (data: Buffer) => {
      recorder.decryptedBytes("server", data);
      if (!this.clientTls.write(data)) pauseUntilDrained(upstreamTls, this.clientTls);
    });
  }

  /** Bytes of the wire's TLS server for the client: recorded as the client receives them. */
  private toClient(chunk: Buffer): void {
    const { client, recorder } = this.hop;
    if (chunk.length === 0 || client.destroyed || client.writableEnded) return;
    recorder.serverBytes(chunk);
    if (!client.write(chunk) && this.upstreamTls) pauseUntilDrained(this.upstreamTls, client);
  }

  private clientTlsEnded(): void {
    // The client closed its TLS session: so does the wire towards the server.
    if (this.upstreamTls) this.upstreamTls.end();
    else this.abort();
  }

  private upstreamTlsEnded(): void {
    this.hop.recorder.close("server");
    if (!this.clientTls.destroyed) this.clientTls.end();
  }

  private clientTlsClosed(): void {
    // The TLS server's last bytes (an alert, a close_notify) are on their way: end the raw socket after them.
    const { client } = this.hop;
    if (!client.destroyed && !client.writableEnded) client.end();
  }

  /**
   * A handshake or a TLS session failed (on either leg), or one side left
   * before the dialogue started: the client gets what the wire's TLS server
   * still had to say (e.g. an alert) and then the end of the connection; the
   * server's connection is cut.
   */
  private abort(): void {
    if (this.over) return;
    this.over = true;
    const { client, upstream } = this.hop;
    if (this.upstreamTls) this.upstreamTls.destroy();
    else if (!upstream.destroyed) upstream.destroy();
    this.clientTls.destroy();
    if (!client.destroyed && !client.writableEnded) client.end();
  }
}
