/** The wire's container: the Node.js proxy on the port-25 hop, with its control port. */
import { Wait } from "testcontainers";
import { WorldContainer } from "./worldContainer.js";
import type { WireProgram } from "./wireProgram.js";

export const WIRE_SMTP_PORT = 25;
export const WIRE_CONTROL_PORT = 8025;

const MITM_CERT = "/etc/wire/mitm.pem";
const MITM_KEY = "/etc/wire/mitm.key";

export class WireContainer extends WorldContainer {
  constructor(image: string) {
    super(image);
    this.withExposedPorts(WIRE_CONTROL_PORT)
      .withWaitStrategy(Wait.forLogMessage(/^wire: listening on port 25/))
      .withStartupTimeout(30_000)
      .withLabels({ "starttls-lab.role": "wire" });
  }

  /** The real server the wire relays to (the receiver's name on the world's network). */
  withUpstream(host: string, port: number): this {
    return this.withEnvironment({ WIRE_UPSTREAM: `${host}:${port}` });
  }

  withProgram(program: WireProgram): this {
    return this.withCopyContentToContainer(
      Object.entries(program).map(([name, content]) => ({ content, target: `/opt/wire/${name}`, mode: 0o644 })),
    );
  }

  /** The certificate the wire presents when it plays the man in the middle. */
  withMitmCertificate(certPem: string, keyPem: string): this {
    return this.withEnvironment({ WIRE_MITM_CERT: MITM_CERT, WIRE_MITM_KEY: MITM_KEY }).withCopyContentToContainer([
      { content: certPem, target: MITM_CERT, mode: 0o644 },
      { content: keyPem, target: MITM_KEY, mode: 0o600 },
    ]);
  }
}
