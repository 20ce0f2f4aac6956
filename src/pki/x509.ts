import { createPrivateKey, createPublicKey, generateKeyPairSync, webcrypto } from "node:crypto";
import type { Extension } from "@peculiar/x509";
import { randomSerialHex } from "./keys.js";
import { x509 } from "./peculiar.js";

// node-forge builds RSA certificates only. Variant certificates (ECDSA keys,
// intermediates) are built with @peculiar/x509 on Node's WebCrypto instead;
// keys still come from node:crypto and are stored as PKCS#8 PEM.

export type KeyType = "rsa" | "ecdsa";

type WebCryptoKey = webcrypto.CryptoKey;

/** A PKCS#8 PEM private key ("BEGIN PRIVATE KEY"): RSA-2048 or P-256. Postfix, Dovecot and Node read both. */
export function generateKeyPem(keyType: KeyType): string {
  const publicKeyEncoding = { type: "spki", format: "pem" } as const;
  const privateKeyEncoding = { type: "pkcs8", format: "pem" } as const;
  return keyType === "rsa"
    ? generateKeyPairSync("rsa", { modulusLength: 2048, publicExponent: 0x10001, publicKeyEncoding, privateKeyEncoding }).privateKey
    : generateKeyPairSync("ec", { namedCurve: "prime256v1", publicKeyEncoding, privateKeyEncoding }).privateKey;
}

function keyTypeOf(keyPem: string): KeyType {
  const key = createPrivateKey(keyPem);
  if (key.asymmetricKeyType === "rsa") return "rsa";
  if (key.asymmetricKeyType === "ec" && key.asymmetricKeyDetails?.namedCurve === "prime256v1") return "ecdsa";
  throw new Error(`pki: unsupported key type ${key.asymmetricKeyType} ${key.asymmetricKeyDetails?.namedCurve ?? ""}`);
}

// Every signature is SHA-256, whichever key makes it.
const ALGORITHMS = {
  rsa: { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
  ecdsa: { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" },
} as const;

interface WebKeys {
  keyType: KeyType;
  privateKey: WebCryptoKey;
  publicKey: WebCryptoKey;
}

async function importKeys(keyPem: string): Promise<WebKeys> {
  const keyType = keyTypeOf(keyPem);
  const algorithm = ALGORITHMS[keyType];
  const pkcs8 = createPrivateKey(keyPem).export({ type: "pkcs8", format: "der" });
  const spki = createPublicKey(keyPem).export({ type: "spki", format: "der" });
  const { subtle } = webcrypto;
  return {
    keyType,
    privateKey: await subtle.importKey("pkcs8", pkcs8, algorithm, false, ["sign"]),
    publicKey: await subtle.importKey("spki", spki, algorithm, true, ["verify"]),
  };
}

export type Profile = { kind: "leaf"; names: readonly string[] } | { kind: "ca"; pathLength?: number };

export interface IssueRequest {
  subjectCN: string;
  /** The subject's private key (PKCS#8 PEM). */
  keyPem: string;
  notBefore: Date;
  notAfter: Date;
  profile: Profile;
  /** The signing CA, or "self" for a certificate signed by its own key. */
  issuer: { certPem: string; keyPem: string } | "self";
}

/** Builds and signs one certificate; returns its PEM. */
export async function issueCertificate(request: IssueRequest): Promise<string> {
  const subject = await importKeys(request.keyPem);
  const issuerCert = request.issuer === "self" ? undefined : new x509.X509Certificate(request.issuer.certPem);
  const signer = request.issuer === "self" ? subject : await importKeys(request.issuer.keyPem);
  const subjectName = new x509.Name([{ CN: [request.subjectCN] }]);

  const extensions: Extension[] = [];
  if (request.profile.kind === "ca") {
    extensions.push(
      new x509.BasicConstraintsExtension(true, request.profile.pathLength, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    );
  } else {
    // keyEncipherment only means something for RSA key transport.
    const usages =
      subject.keyType === "rsa"
        ? x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment
        : x509.KeyUsageFlags.digitalSignature;
    extensions.push(
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(usages, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
      new x509.SubjectAlternativeNameExtension(request.profile.names.map((value) => ({ type: "dns" as const, value }))),
    );
  }
  extensions.push(await x509.SubjectKeyIdentifierExtension.create(subject.publicKey));
  if (issuerCert !== undefined) {
    // OpenSSL matches issuers by this field: copy the CA's own identifier.
    const ski = issuerCert.getExtension(x509.SubjectKeyIdentifierExtension);
    extensions.push(
      ski !== null
        ? new x509.AuthorityKeyIdentifierExtension(ski.keyId)
        : await x509.AuthorityKeyIdentifierExtension.create(issuerCert.publicKey),
    );
  }

  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerialHex(),
    subject: subjectName,
    // The parsed Name keeps the CA's exact encoding, so issuer and subject compare equal byte for byte.
    issuer: issuerCert?.subjectName ?? subjectName,
    notBefore: request.notBefore,
    notAfter: request.notAfter,
    publicKey: subject.publicKey,
    signingKey: signer.privateKey,
    signingAlgorithm: ALGORITHMS[signer.keyType],
    extensions,
  });
  return `${cert.toString("pem").replace(/\r\n/g, "\n").trimEnd()}\n`;
}
