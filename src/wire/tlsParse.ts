/**
 * Reading what TLS leaves readable on the wire: record headers, and the
 * plaintext handshake messages (ClientHello, ServerHello) and alerts.
 * Every parser here returns undefined or partial results on malformed input;
 * none throws.
 *
 * Runs inside the wire container on nodejs 18: no npm dependencies.
 */

export const RECORD_HEADER_BYTES = 5;
/** TLSCiphertext.length may not exceed 2^14 + 2048 (RFC 5246 6.2.3). */
export const MAX_RECORD_LENGTH = 16384 + 2048;

export const CONTENT_CHANGE_CIPHER_SPEC = 20;
export const CONTENT_ALERT = 21;
export const CONTENT_HANDSHAKE = 22;
export const CONTENT_APPLICATION_DATA = 23;
export const CONTENT_HEARTBEAT = 24;

export interface RecordHeader {
  contentType: number;
  version: number;
  length: number;
}

/**
 * The header at the start of `buf` when it looks like a TLS record header;
 * "short" when fewer than 5 bytes are there; "invalid" when these bytes are
 * not TLS.
 */
export function readRecordHeader(buf: Buffer): RecordHeader | "short" | "invalid" {
  if (buf.length < 1) return "short";
  const contentType = buf[0] ?? 0;
  if (contentType < CONTENT_CHANGE_CIPHER_SPEC || contentType > CONTENT_HEARTBEAT) return "invalid";
  if (buf.length < 2) return "short";
  if (buf[1] !== 3) return "invalid";
  if (buf.length < 3) return "short";
  if ((buf[2] ?? 0) > 4) return "invalid";
  if (buf.length < RECORD_HEADER_BYTES) return "short";
  const length = buf.readUInt16BE(3);
  if (length > MAX_RECORD_LENGTH) return "invalid";
  return { contentType, version: buf.readUInt16BE(1), length };
}

/** GREASE values (RFC 8701): 0x0a0a, 0x1a1a, … 0xfafa. */
export function isGrease(value: number): boolean {
  return (value & 0x0f0f) === 0x0a0a && value >> 8 === (value & 0xff);
}

const VERSION_NAMES: Record<number, string> = {
  0x0300: "SSLv3",
  0x0301: "TLSv1",
  0x0302: "TLSv1.1",
  0x0303: "TLSv1.2",
  0x0304: "TLSv1.3",
};

const hex4 = (value: number): string => `0x${value.toString(16).padStart(4, "0")}`;

/** "TLSv1.3", "TLSv1.2", … as OpenSSL and Postfix name them; hex otherwise. */
export function versionName(value: number): string {
  return VERSION_NAMES[value] ?? hex4(value);
}

const CIPHER_SUITES: Record<number, string> = {
  0x1301: "TLS_AES_128_GCM_SHA256",
  0x1302: "TLS_AES_256_GCM_SHA384",
  0x1303: "TLS_CHACHA20_POLY1305_SHA256",
  0x1304: "TLS_AES_128_CCM_SHA256",
  0x1305: "TLS_AES_128_CCM_8_SHA256",
  0xc009: "ECDHE-ECDSA-AES128-SHA",
  0xc00a: "ECDHE-ECDSA-AES256-SHA",
  0xc013: "ECDHE-RSA-AES128-SHA",
  0xc014: "ECDHE-RSA-AES256-SHA",
  0xc023: "ECDHE-ECDSA-AES128-SHA256",
  0xc024: "ECDHE-ECDSA-AES256-SHA384",
  0xc027: "ECDHE-RSA-AES128-SHA256",
  0xc028: "ECDHE-RSA-AES256-SHA384",
  0xc02b: "ECDHE-ECDSA-AES128-GCM-SHA256",
  0xc02c: "ECDHE-ECDSA-AES256-GCM-SHA384",
  0xc02f: "ECDHE-RSA-AES128-GCM-SHA256",
  0xc030: "ECDHE-RSA-AES256-GCM-SHA384",
  0xcca8: "ECDHE-RSA-CHACHA20-POLY1305",
  0xcca9: "ECDHE-ECDSA-CHACHA20-POLY1305",
  0x00a6: "ADH-AES128-GCM-SHA256",
  0x00a7: "ADH-AES256-GCM-SHA384",
  0x009e: "DHE-RSA-AES128-GCM-SHA256",
  0x009f: "DHE-RSA-AES256-GCM-SHA384",
  0x002f: "AES128-SHA",
  0x0035: "AES256-SHA",
  0x009c: "AES128-GCM-SHA256",
  0x009d: "AES256-GCM-SHA384",
};

/** OpenSSL's name for the common suites (IANA's for TLS 1.3); hex otherwise. */
export function cipherSuiteName(value: number): string {
  return CIPHER_SUITES[value] ?? hex4(value);
}

/** IANA's TLS Supported Groups names (the names OpenSSL 3.5 and Postfix 3.10 log); hex otherwise. */
const NAMED_GROUPS: Record<number, string> = {
  0x0017: "secp256r1",
  0x0018: "secp384r1",
  0x0019: "secp521r1",
  0x001d: "x25519",
  0x001e: "x448",
  0x0100: "ffdhe2048",
  0x0101: "ffdhe3072",
  0x0102: "ffdhe4096",
  0x0103: "ffdhe6144",
  0x0104: "ffdhe8192",
  0x0200: "MLKEM512",
  0x0201: "MLKEM768",
  0x0202: "MLKEM1024",
  0x11eb: "SecP256r1MLKEM768",
  0x11ec: "X25519MLKEM768",
  0x11ed: "SecP384r1MLKEM1024",
};

export function namedGroupName(value: number): string {
  return NAMED_GROUPS[value] ?? hex4(value);
}

export const HANDSHAKE_SERVER_KEY_EXCHANGE = 12;

const HANDSHAKE_TYPES: Record<number, string> = {
  0: "HelloRequest",
  1: "ClientHello",
  2: "ServerHello",
  4: "NewSessionTicket",
  5: "EndOfEarlyData",
  8: "EncryptedExtensions",
  11: "Certificate",
  12: "ServerKeyExchange",
  13: "CertificateRequest",
  14: "ServerHelloDone",
  15: "CertificateVerify",
  16: "ClientKeyExchange",
  20: "Finished",
  22: "CertificateStatus",
  24: "KeyUpdate",
};

export function handshakeTypeName(type: number): string {
  return HANDSHAKE_TYPES[type] ?? `handshake-${type}`;
}

const ALERT_DESCRIPTIONS: Record<number, string> = {
  0: "close_notify",
  10: "unexpected_message",
  20: "bad_record_mac",
  21: "decryption_failed",
  22: "record_overflow",
  30: "decompression_failure",
  40: "handshake_failure",
  41: "no_certificate",
  42: "bad_certificate",
  43: "unsupported_certificate",
  44: "certificate_revoked",
  45: "certificate_expired",
  46: "certificate_unknown",
  47: "illegal_parameter",
  48: "unknown_ca",
  49: "access_denied",
  50: "decode_error",
  51: "decrypt_error",
  60: "export_restriction",
  70: "protocol_version",
  71: "insufficient_security",
  80: "internal_error",
  86: "inappropriate_fallback",
  90: "user_canceled",
  100: "no_renegotiation",
  109: "missing_extension",
  110: "unsupported_extension",
  111: "certificate_unobtainable",
  112: "unrecognized_name",
  113: "bad_certificate_status_response",
  114: "bad_certificate_hash_value",
  115: "unknown_psk_identity",
  116: "certificate_required",
  120: "no_application_protocol",
};

export interface PlainAlert {
  level?: "warning" | "fatal";
  description: string;
}

/** A plaintext alert's two bytes; undefined when they cannot be one. */
export function parseAlert(fragment: Buffer): PlainAlert | undefined {
  if (fragment.length !== 2) return undefined;
  const level = fragment[0] ?? 0;
  const code = fragment[1] ?? 0;
  if (level !== 1 && level !== 2) return undefined;
  return {
    level: level === 1 ? "warning" : "fatal",
    description: ALERT_DESCRIPTIONS[code] ?? `alert-${code}`,
  };
}

/** A bounds-checked reader: every read returns undefined past the end. */
class Reader {
  constructor(
    private readonly buf: Buffer,
    private pos = 0,
    private readonly end = buf.length,
  ) {}

  get remaining(): number {
    return this.end - this.pos;
  }

  u8(): number | undefined {
    if (this.remaining < 1) return undefined;
    return this.buf[this.pos++];
  }

  u16(): number | undefined {
    if (this.remaining < 2) return undefined;
    const value = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return value;
  }

  bytes(n: number): Buffer | undefined {
    if (n < 0 || this.remaining < n) return undefined;
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** A vector with a 1- or 2-byte length prefix. */
  vector(lengthBytes: 1 | 2): Buffer | undefined {
    const n = lengthBytes === 1 ? this.u8() : this.u16();
    return n === undefined ? undefined : this.bytes(n);
  }
}

/** Extensions as type → data, in the order sent; stops at the first malformed one. */
function readExtensions(r: Reader): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  const block = r.vector(2);
  if (!block) return out;
  const er = new Reader(block);
  while (er.remaining >= 4) {
    const type = er.u16();
    const data = er.vector(2);
    if (type === undefined || data === undefined) break;
    if (!out.has(type)) out.set(type, data);
  }
  return out;
}

const EXT_SERVER_NAME = 0x0000;
const EXT_SUPPORTED_VERSIONS = 0x002b;
const EXT_KEY_SHARE = 0x0033;

export interface ClientHelloInfo {
  legacyVersion?: string;
  sni?: string;
  offeredVersions?: string[];
}

/** The readable parts of a ClientHello body (after the 4-byte handshake header). */
export function parseClientHello(body: Buffer): ClientHelloInfo {
  const info: ClientHelloInfo = {};
  const r = new Reader(body);
  const legacy = r.u16();
  if (legacy === undefined) return info;
  info.legacyVersion = versionName(legacy);
  info.offeredVersions = [info.legacyVersion];
  if (!r.bytes(32) || !r.vector(1) || !r.vector(2) || !r.vector(1)) return info;
  const extensions = readExtensions(r);

  const serverName = extensions.get(EXT_SERVER_NAME);
  if (serverName) {
    const list = new Reader(serverName).vector(2);
    if (list) {
      const lr = new Reader(list);
      while (lr.remaining >= 3) {
        const nameType = lr.u8();
        const name = lr.vector(2);
        if (nameType === undefined || name === undefined) break;
        if (nameType === 0) {
          info.sni = name.toString("latin1");
          break;
        }
      }
    }
  }

  const supported = extensions.get(EXT_SUPPORTED_VERSIONS);
  if (supported) {
    const list = new Reader(supported).vector(1);
    if (list) {
      const versions: string[] = [];
      const vr = new Reader(list);
      while (vr.remaining >= 2) {
        const v = vr.u16() ?? 0;
        if (!isGrease(v)) versions.push(versionName(v));
      }
      info.offeredVersions = versions;
    }
  }
  return info;
}

/** SHA-256("HelloRetryRequest"): the random of a ServerHello that is a HelloRetryRequest. */
const HRR_RANDOM = Buffer.from(
  "cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c",
  "hex",
);

export interface ServerHelloInfo {
  legacyVersion?: string;
  chosenVersion?: string;
  cipherSuite?: string;
  helloRetryRequest?: boolean;
  /**
   * TLS 1.3: the group of the key_share extension (for a HelloRetryRequest,
   * the group the server asks the client to retry with).
   */
  keyExchange?: string;
  /** TLS 1.2 and older: the suite's key exchange is ECDHE, so a ServerKeyExchange will name its curve. */
  ecdheSuite?: boolean;
}

/** The readable parts of a ServerHello body (after the 4-byte handshake header). */
export function parseServerHello(body: Buffer): ServerHelloInfo {
  const info: ServerHelloInfo = {};
  const r = new Reader(body);
  const legacy = r.u16();
  if (legacy === undefined) return info;
  info.legacyVersion = versionName(legacy);
  info.chosenVersion = info.legacyVersion;
  const random = r.bytes(32);
  if (!random) return info;
  if (random.equals(HRR_RANDOM)) info.helloRetryRequest = true;
  if (!r.vector(1)) return info;
  const suite = r.u16();
  if (suite === undefined) return info;
  info.cipherSuite = cipherSuiteName(suite);
  if (info.cipherSuite.startsWith("ECDHE-")) info.ecdheSuite = true;
  if (r.u8() === undefined) return info;
  const extensions = readExtensions(r);
  const supported = extensions.get(EXT_SUPPORTED_VERSIONS);
  if (supported && supported.length === 2) info.chosenVersion = versionName(supported.readUInt16BE(0));
  // A ServerHello's KeyShareEntry and a HelloRetryRequest's selected_group both start with the group.
  const keyShare = extensions.get(EXT_KEY_SHARE);
  if (keyShare && keyShare.length >= 2) info.keyExchange = namedGroupName(keyShare.readUInt16BE(0));
  return info;
}

const CURVE_TYPE_NAMED_CURVE = 3;

/**
 * The curve of a TLS 1.2 ECDHE ServerKeyExchange body (RFC 8422 5.4:
 * ECParameters first, then the signed public key); undefined for explicit
 * curves. Only meaningful after a ServerHello with an ECDHE suite: a DHE
 * ServerKeyExchange starts with the length of p instead.
 */
export function parseEcdheServerKeyExchange(body: Buffer): string | undefined {
  const r = new Reader(body);
  if (r.u8() !== CURVE_TYPE_NAMED_CURVE) return undefined;
  const curve = r.u16();
  return curve === undefined ? undefined : namedGroupName(curve);
}
