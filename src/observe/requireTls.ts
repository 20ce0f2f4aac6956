/**
 * REQUIRETLS (RFC 8689) on the relay hop, read from Postfix 3.11's `tls=`
 * field (smtp_log_tls_feature_status) of the status lines. Pure.
 */
import { parseTlsFeatureStatus, type DeliveryEvent, type TlsFeature } from "./postfixLog.js";
import type { RequireTlsObservation } from "./types.js";

const REQUIRETLS = "requiretls";

function requireTlsFeature(status: DeliveryEvent): TlsFeature | undefined {
  if (status.tlsFeatures === undefined) return undefined;
  const parsed = parseTlsFeatureStatus(status.tlsFeatures);
  if (!parsed) throw new Error(`the tls= field of this status line is not in Postfix's notation: ${status.line}`);
  return parsed.features.find((feature) => feature.name === REQUIRETLS);
}

/**
 * Whether the receiver announced REQUIRETLS, from how the sender's feature
 * ended: used as requested, or with no certificate match (both only after
 * the receiver announced it); "none" when it announced neither STARTTLS nor
 * REQUIRETLS, or TLS without REQUIRETLS; unknown when the sender never read
 * the EHLO that follows STARTTLS.
 */
function announced(feature: TlsFeature): boolean | undefined {
  if (feature.undecided) return undefined;
  if (feature.downgradedTo === undefined) return !feature.violated;
  if (feature.downgradedTo === "none") return false;
  if (!feature.violated && (feature.downgradedTo === "nocertmatch" || feature.downgradedTo === "nomatch")) return true;
  return undefined;
}

/**
 * `relayed`: the sending provider's status line for the hop over port 25;
 * `stored`: the status line of the provider that stored the message, when
 * that hop delivered it. Undefined when the relay's line has no tls= field
 * (Postfix before 3.11, or smtp_log_tls_feature_status = no).
 */
export function requireTlsObservation(relayed: DeliveryEvent, stored?: DeliveryEvent): RequireTlsObservation | undefined {
  if (relayed.tlsFeatures === undefined) return undefined;
  const feature = requireTlsFeature(relayed);
  const observation: RequireTlsObservation = { requested: feature !== undefined, tlsField: relayed.tlsFeatures };
  if (feature) {
    const receiverAnnounced = announced(feature);
    if (receiverAnnounced !== undefined) observation.receiverAnnounced = receiverAnnounced;
    observation.policyViolated = feature.violated;
  }
  if (stored?.tlsFeatures !== undefined) observation.keptByReceiver = requireTlsFeature(stored) !== undefined;
  return observation;
}
