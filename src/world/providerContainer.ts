/**
 * What every mail provider is to the harness, whichever MTA it runs: before
 * start, a module with a fresh password for its mailboxes, ports 25, 465 and
 * 993, and the harness CA and its own certificates; started, its identity,
 * that password, its own certificate and the host ports of SMTP (25),
 * submissions (465) and IMAPS (993).
 */
import { randomBytes } from "node:crypto";
import type { StartedTestContainer } from "testcontainers";
import type { ServerCredentials, VariantCredentials } from "../pki/types.js";
import type { ProviderCredentials, WorldCertificates } from "./credentials.js";
import type { LogBook } from "./logBook.js";
import { certificateFiles } from "./providerFiles.js";
import type { ProviderIdentity } from "./providers.js";
import { StartedWorldContainer, WorldContainer, type ContainerTitle } from "./worldContainer.js";

export const SMTP_PORT = 25;
export const SUBMISSIONS_PORT = 465;
export const IMAPS_PORT = 993;

/** Who a provider is and how its people log in. */
export interface ProviderAccess {
  identity: ProviderIdentity;
  /** Every mailbox's password on this provider. */
  password: string;
  /** The provider's own certificate, which IMAPS presents. */
  own: ServerCredentials;
}

export class StartedProviderContainer extends StartedWorldContainer {
  readonly identity: ProviderIdentity;
  /** Every mailbox's password on this provider. */
  readonly password: string;
  /** The provider's own certificate, which IMAPS presents. */
  readonly credentials: ServerCredentials;

  constructor(container: StartedTestContainer, log: LogBook, title: ContainerTitle, address: string, access: ProviderAccess) {
    super(container, log, title, address);
    this.identity = access.identity;
    this.password = access.password;
    this.credentials = access.own;
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
  protected startedAccess(): ProviderAccess & { own: VariantCredentials; certificates: WorldCertificates } {
    if (!this.certificates) throw new Error(`${this.title.container}: call withCertificates() before start()`);
    return { identity: this.identity, password: this.password, own: this.certificates.own, certificates: this.certificates.world };
  }
}
