import { createPrivateKey, createPublicKey, webcrypto } from "node:crypto";
import type { Extension } from "@peculiar/x509";
import type { IssueRequest } from "./issue.js";
import { keyTypeOf, randomSerialHex } from "./keys.js";
import type { KeyType } from "./types.js";

// @peculiar/x509 registers its algorithms with tsyringe, which refuses to load
// unless a Reflect metadata polyfill (reflect-metadata or similar) is already
// installed, and only uses it while the library's classes are being defined.
// Rather than add a second dependency and patch the global Reflect for the
// whole process (and for every project that imports this one), a minimal
// metadata store is lent to Reflect for the duration of the import and then
// taken back. A polyfill someone else installed is left alone and used.

type MetadataReflect = typeof Reflect & {
  defineMetadata?: (key: unknown, value: unknown, target: object, property?: PropertyKey) => void;
  getOwnMetadata?: (key: unknown, target: object, property?: PropertyKey) => unknown;
  getMetadata?: (key: unknown, target: object, property?: PropertyKey) => unknown;
};

const METHODS = ["defineMetadata", "getOwnMetadata", "getMetadata"] as const;

function lendMetadataApi(): () => void {
  const reflect = Reflect as MetadataReflect;
  if (typeof reflect.getMetadata === "function") return () => {};
  const store = new WeakMap<object, Map<PropertyKey | undefined, Map<unknown, unknown>>>();
  const own = (target: object, property: PropertyKey | undefined, create: boolean) => {
    let byProperty = store.get(target);
    if (byProperty === undefined && create) store.set(target, (byProperty = new Map()));
    let byKey = byProperty?.get(property);
    if (byKey === undefined && create) byProperty!.set(property, (byKey = new Map()));
    return byKey;
  };
  const lent: Required<Pick<MetadataReflect, (typeof METHODS)[number]>> = {
    defineMetadata: (key, value, target, property) => void own(target, property, true)!.set(key, value),
    getOwnMetadata: (key, target, property) => own(target, property, false)?.get(key),
    getMetadata: (key, target, property) => {
      for (let t: object | null = target; t !== null; t = Object.getPrototypeOf(t) as object | null) {
        const byKey = own(t, property, false);
        if (byKey?.has(key)) return byKey.get(key);
      }
      return undefined;
    },
  };
  for (const method of METHODS) {
    Object.defineProperty(reflect, method, { value: lent[method], configurable: true, writable: true });
  }
  return () => {
    for (const method of METHODS) if (reflect[method] === lent[method]) delete reflect[method];
  };
}

const giveBack = lendMetadataApi();
let loaded: typeof import("@peculiar/x509");
try {
  loaded = await import("@peculiar/x509");
} finally {
  giveBack();
}

// The library types WebCrypto with the DOM lib, which this project does not load.
loaded.cryptoProvider.set(webcrypto as unknown as ReturnType<typeof loaded.cryptoProvider.get>);

/** @peculiar/x509, loaded without a global Reflect polyfill and set to use Node's WebCrypto. */
const x509 = loaded;

type WebCryptoKey = webcrypto.CryptoKey;

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

/** The ECDSA signing path of issueCertificate (see issue.ts); also signs RSA, for a mixed pair. */
export async function issueWithPeculiar(request: IssueRequest): Promise<string> {
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
  return cert.toString("pem");
}
