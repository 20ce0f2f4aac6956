/**
 * What every started mail provider is to the harness, whichever MTA it
 * runs: its identity, its mailboxes' password, its own certificate and the
 * host ports of SMTP (25), submissions (465) and IMAPS (993).
 */
import type { StartedTestContainer } from "testcontainers";
import type { ServerCredentials } from "../pki/types.js";
import type { LogBook } from "./logBook.js";
import type { ProviderIdentity } from "./providers.js";
import { StartedWorldContainer, type ContainerTitle } from "./worldContainer.js";

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
