/**
 * What every mail provider is to the harness, whichever MTA it runs: before
 * start, a module with a fresh password for its mailboxes, ports 25, 465 and
 * 993, and the harness CA and its own certificates; started, its identity,
 * that password, the certificate it presents, the host ports of SMTP (25),
 * submissions (465) and IMAPS (993), and what following a message needs of
 * any MTA: its log read in the common vocabulary, its queue, a retry.
 */
import { randomBytes } from "node:crypto";
import type { StartedTestContainer } from "testcontainers";
import type { ProviderSoftware } from "../core/result.js";
import type { MtaLogReader } from "../observe/logReader.js";
import type { QueuedMessage } from "../observe/queue.js";
import type { KeyType, Sha256Digest, VariantCredentials } from "../pki/types.js";
import type { CertificateVariant } from "../pki/variantNames.js";
import type { Mta } from "../scenario/levels.js";
import type { ProviderCredentials, WorldCertificates } from "./credentials.js";
import type { LogBook } from "./logBook.js";
import { certificateFiles } from "./providerFiles.js";
import { certificateNames, PRESENTED_FILES, type ProviderIdentity } from "./providers.js";
import { StartedWorldContainer, WorldContainer, type ContainerTitle } from "./worldContainer.js";

export const SMTP_PORT = 25;
export const SUBMISSIONS_PORT = 465;
export const IMAPS_PORT = 993;

/** The certificate a provider presents on ports 25 and 465, with its fingerprints for pinning. */
export interface PresentedCertificate {
  variant: CertificateVariant;
  key: KeyType;
  certSha256: Sha256Digest;
  pkeySha256: Sha256Digest;
  subjectCN: string;
  /** The harness CA is sent after the leaf (for DANE-TA records). */
  chainWithCa: boolean;
}

function presentedBy(issued: VariantCredentials, chainWithCa: boolean): PresentedCertificate {
  const { variant, keyType: key, certSha256, pkeySha256, subjectCN } = issued;
  return { variant, key, certSha256, pkeySha256, subjectCN, chainWithCa };
}

/** Who a provider is, how its people log in, and the certificates it can present. */
export interface ProviderAccess {
  identity: ProviderIdentity;
  /** Every mailbox's password on this provider. */
  password: string;
  /** The provider's own certificate, which IMAPS presents (and ports 25 and 465 until a scenario asks for another). */
  own: VariantCredentials;
  certificates: WorldCertificates;
  /** Set when re-attaching: what an earlier process made the provider present. */
  restoredPresented?: PresentedCertificate;
}

export abstract class StartedProviderContainer extends StartedWorldContainer {
  readonly identity: ProviderIdentity;
  /** Every mailbox's password on this provider. */
  readonly password: string;
  /** The provider's own certificate, which IMAPS presents. */
  readonly credentials: VariantCredentials;
  protected readonly certificates: WorldCertificates;
  private presented: PresentedCertificate;
  /** True while the harness knows this provider's queue holds nothing (see mayHoldMail). */
  protected queueClean = false;

  /** Which mail server this provider runs. */
  abstract readonly mta: Mta;
  /** Its log in the common vocabulary (status lines, TLS sessions, Message-IDs, bounces). */
  abstract readonly reader: MtaLogReader;

  constructor(container: StartedTestContainer, log: LogBook, title: ContainerTitle, address: string, access: ProviderAccess) {
    super(container, log, title, address);
    this.identity = access.identity;
    this.password = access.password;
    this.credentials = access.own;
    this.certificates = access.certificates;
    this.presented = access.restoredPresented ?? presentedBy(access.own, false);
  }

  /** Every message in the queue now, read with the MTA's own tool. */
  abstract queued(): Promise<QueuedMessage[]>;

  /** Try this queued message now instead of at its next retry time, as an admin would with the MTA's own tool. */
  abstract retry(queueId: string): Promise<void>;

  /** The MTA's and its TLS library's versions, asked from the programs themselves. */
  abstract software(): Promise<ProviderSoftware>;

  /** The harness CA, which every provider of the world trusts. */
  get caCertPem(): string {
    return this.certificates.caCertPem;
  }

  /** The certificate ports 25 and 465 present now. */
  get presentedCertificate(): PresentedCertificate {
    return this.presented;
  }

  /**
   * Present this certificate from the next connection on (IMAPS keeps its
   * own valid certificate); nothing is written when it is presented already.
   */
  async presentCertificate(variant: CertificateVariant, key: KeyType, options: { chainWithCa?: boolean } = {}): Promise<PresentedCertificate> {
    const chainWithCa = options.chainWithCa ?? false;
    if (this.presented.variant === variant && this.presented.key === key && this.presented.chainWithCa === chainWithCa) return this.presented;
    const issued = await this.certificates.server(certificateNames(this.identity), variant, key);
    // A DANE-TA (2 0 1) record names the CA itself: the client can match it only if the server sends the CA too.
    const chain = chainWithCa ? `${issued.certPem.trimEnd()}\n${this.certificates.caCertPem.trimEnd()}\n` : issued.certPem;
    await this.copyContentToContainer([
      { content: chain, target: PRESENTED_FILES.cert, mode: 0o644 },
      { content: issued.keyPem, target: PRESENTED_FILES.key, mode: 0o600 },
    ]);
    await this.certificateReplaced();
    this.presented = presentedBy(issued, chainWithCa);
    return this.presented;
  }

  /**
   * Called once a new certificate is in PRESENTED_FILES: an MTA that reads
   * it only when it starts is told here. Postfix's smtpd reads it in every
   * new process, so by default nothing is done.
   */
  protected async certificateReplaced(): Promise<void> {}

  /**
   * Mail may be in this provider's queue from now on (a message is being
   * handed in): the next scenario's apply must empty the queue and reset
   * what a deferral left behind, whatever the settings.
   */
  mayHoldMail(): void {
    this.queueClean = false;
  }

  /** The harness saw every message of the scenario leave this provider's queue (delivered, bounced or refused). */
  queueSettled(): void {
    this.queueClean = true;
  }

  get smtpPort(): number {
    return this.getMappedPort(SMTP_PORT);
  }
  get submissionsPort(): number {
    return this.getMappedPort(SUBMISSIONS_PORT);
  }
  get imapsPort(): number {
    return this.getMappedPort(IMAPS_PORT);
  }
}

/** A provider's module before start: what each MTA's module (Postfix, Exim, OpenSMTPD) builds on. */
export abstract class ProviderContainer<Started extends StartedProviderContainer> extends WorldContainer<Started> {
  /** Every mailbox's password (Dovecot's passwd-file, which each MTA's AUTH on 465 reads too); fresh for each container. */
  protected readonly password = randomBytes(12).toString("base64url");
  private certificates?: { world: WorldCertificates; own: VariantCredentials };

  constructor(
    image: string,
    title: ContainerTitle,
    protected readonly identity: ProviderIdentity,
  ) {
    super(image, title);
    this.withExposedPorts(SMTP_PORT, SUBMISSIONS_PORT, IMAPS_PORT).withStartupTimeout(60_000);
  }

  /** The harness CA and the provider's certificates (see certificateFiles). */
  withCertificates(world: WorldCertificates, credentials: ProviderCredentials): this {
    this.certificates = { world, own: credentials.own };
    return this.withCopyContentToContainer(certificateFiles(world, credentials));
  }

  /** Who the started provider is and how its people log in, with the world's certificates. */
  protected startedAccess(): ProviderAccess {
    if (!this.certificates) throw new Error(`${this.title.container}: call withCertificates() before start()`);
    return { identity: this.identity, password: this.password, own: this.certificates.own, certificates: this.certificates.world };
  }
}
