/**
 * The facts of one message's relay attempt(s), read from the sender's parsed
 * log. Pure: drive/ calls it after waiting for the message's status line.
 */
import type {
  DeliveryEvent,
  NonDeliveryNoticeEvent,
  PeerCertificateEvent,
  PostfixEvent,
  SessionAbandonedEvent,
  TlsEstablishedEvent,
} from "./postfixLog.js";

/** Services whose status lines say what became of a relayed message. */
export const RELAY_SERVICES: ReadonlySet<string> = new Set(["smtp", "error", "retry"]);

export interface RelayTrail {
  queueId: string;
  /** Every status line of this queue id from a relay service, in log order (e.g. a deferral, then the later success). */
  attempts: DeliveryEvent[];
  /** The last of `attempts`: the message's current fate. Undefined while no status line has been logged. */
  final?: DeliveryEvent;
  /**
   * The TLS session the final attempt ran over: the last tlsEstablished line
   * of the same process (program and pid) before `final` and after that
   * process's previous boundary. Undefined for plaintext (and error-service) attempts.
   */
  tls?: TlsEstablishedEvent;
  /** The certificate the receiver presented in that session (`peercert` logging), from the same window. */
  peerCertificate?: PeerCertificateEvent;
  /**
   * Sessions of the same process given up for this message before the final
   * attempt, e.g. "Cannot start TLS: handshake failure" before a plaintext retry.
   */
  abandoned: SessionAbandonedEvent[];
  /** The non-delivery notification's queue id, when the message bounced back to the sender. */
  ndrQueueId?: string;
  /** The Message-ID cleanup logged for the queue id, without angle brackets. */
  messageId?: string;
  /** The events these facts were read from, in log order (each carries its raw line). */
  deciding: PostfixEvent[];
}

export interface RelayTrailOptions {
  /** Only status lines for this recipient (`to=<…>`); all recipients when omitted. */
  recipient?: string;
}

/**
 * Gathers the relay facts of `queueId` from the sender's events (in log order).
 *
 * The TLS facts of the final attempt are searched backwards from its status
 * line, among events of the same program and pid only, back to the start of
 * that delivery request: an earlier status line of that process (for any
 * message: Postfix reuses smtp processes, and pids, across messages) or a
 * "daemon started" line (pids restart with the container). The status line of
 * another recipient of the same message over the same relay is not a
 * boundary (one session delivers all of them). A sessionAbandoned
 * line of that process closes the TLS window (the session before it was given
 * up, e.g. before a plaintext retry) and is itself collected in `abandoned`.
 */
export function relayTrail(
  events: readonly PostfixEvent[],
  queueId: string,
  options: RelayTrailOptions = {},
): RelayTrail {
  const trail: RelayTrail = { queueId, attempts: [], abandoned: [], deciding: [] };
  const deciding = new Set<number>();
  let finalIndex = -1;
  let notice: NonDeliveryNoticeEvent | undefined;

  events.forEach((event, index) => {
    switch (event.kind) {
      case "delivery":
        if (
          event.queueId === queueId &&
          RELAY_SERVICES.has(event.service) &&
          (options.recipient === undefined || event.to.toLowerCase() === options.recipient.toLowerCase())
        ) {
          trail.attempts.push(event);
          finalIndex = index;
          deciding.add(index);
        }
        break;
      case "nonDeliveryNotice":
        if (event.queueId === queueId) {
          notice = event;
          deciding.add(index);
        }
        break;
      case "messageId":
        if (event.queueId === queueId && trail.messageId === undefined) {
          trail.messageId = event.messageId;
          deciding.add(index);
        }
        break;
      default:
        break;
    }
  });

  const final = trail.attempts.at(-1);
  if (final) {
    trail.final = final;
    // Walk back through this process's lines until the previous delivery request.
    let sameSession = true;
    for (let i = finalIndex - 1; i >= 0; i--) {
      const event = events[i]!;
      if (event.kind === "started") break;
      if (event.pid !== final.pid || event.program !== final.program) continue;
      if (event.kind === "delivery") {
        // Another recipient of the same message over the same relay: same session, keep looking.
        if (event.queueId === final.queueId && event.to !== final.to && event.relay === final.relay) continue;
        break;
      }
      if (event.kind === "sessionAbandoned") {
        // Whatever TLS came before this line belonged to a session that was given up.
        sameSession = false;
        if (event.queueId === queueId) {
          trail.abandoned.unshift(event);
          deciding.add(i);
        }
      } else if (sameSession && event.kind === "tlsEstablished" && trail.tls === undefined) {
        trail.tls = event;
        deciding.add(i);
      } else if (sameSession && event.kind === "peerCertificate" && trail.peerCertificate === undefined) {
        trail.peerCertificate = event;
        deciding.add(i);
      }
    }
  }

  if (notice) trail.ndrQueueId = notice.ndrQueueId;
  trail.deciding = [...deciding].sort((a, b) => a - b).map((i) => events[i]!);
  return trail;
}
