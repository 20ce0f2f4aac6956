/**
 * The world's certificates, typed by what each is for, all obtained through
 * the PKI's cache (~/.cache/starttls-lab/pki) under one harness CA.
 */
import { ensurePki, ensureServerVariant } from "../pki/index.js";
import type { KeyType, VariantCredentials } from "../pki/types.js";
import type { CertificateVariant } from "../pki/variantNames.js";
import { certificateNames, type HostedDomain, type ProviderIdentity } from "./providers.js";

/** What a provider's container starts with. */
export interface ProviderCredentials {
  /** Its primary domain's valid certificate: IMAPS keeps it, ports 25 and 465 start with it. */
  own: VariantCredentials;
  /** Each further hosted domain's, chosen by SNI. */
  sni: Array<{ hosted: HostedDomain; credentials: VariantCredentials }>;
}

export class WorldCertificates {
  private constructor(
    private readonly pkiDir: string,
    /** The harness root CA, the only trust anchor of the world. */
    readonly caCertPem: string,
    /** What was generated, e.g. "ca", "variant valid rsa for mx.iroco.test"; empty on a warm cache. */
    readonly generated: string[],
  ) {}

  static async open(pkiDir: string): Promise<WorldCertificates> {
    const pki = await ensurePki({ cacheDir: pkiDir, servers: {} });
    return new WorldCertificates(pkiDir, pki.caCertPem, [...pki.generated]);
  }

  /** A server certificate for these names, as a scenario asks for it. */
  async server(names: string[], variant: CertificateVariant = "valid", keyType: KeyType = "rsa"): Promise<VariantCredentials> {
    const issued = await ensureServerVariant({ cacheDir: this.pkiDir, spec: { names, variant, keyType } });
    this.generated.push(...issued.generated.map((what) => (what.startsWith("variant ") ? `${what} for ${names[0]}` : what)));
    return issued;
  }

  /** The valid certificate a hosted domain's names need (its MX, its IMAP host, the bare domain). */
  hostedDomain(hosted: HostedDomain): Promise<VariantCredentials> {
    return this.server(certificateNames(hosted));
  }

  async provider(identity: ProviderIdentity): Promise<ProviderCredentials> {
    const [own, sni] = await Promise.all([
      this.hostedDomain(identity),
      Promise.all(identity.extraDomains.map(async (hosted) => ({ hosted, credentials: await this.hostedDomain(hosted) }))),
    ]);
    return { own, sni };
  }
}
