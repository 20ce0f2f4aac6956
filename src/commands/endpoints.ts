/**
 * What `up` and `status` print: every endpoint of a world that stays up on
 * 127.0.0.1, the credentials, the CA, and commands for the tools admins
 * already use, ready to paste. Every port and name is read from the running
 * containers.
 */
import { hostedDomains, mxHosts, PROVIDERS } from "../world/providers.js";
import { SUBMISSIONS_PORT } from "../world/providerContainer.js";
import type { MailWorld } from "../world/world.js";
import { nameFlag, statePath, type WorldState } from "./worldState.js";

/** Where the harness CA sits inside both providers (what their Postfix and posttls-finger trust). */
export const CA_IN_CONTAINERS = "/etc/starttls-lab/tls/ca.pem";

export function describeWorld(world: MailWorld, state: WorldState): string {
  const alice = PROVIDERS.sender;
  const bob = PROVIDERS.receiver;
  const ca = state.caFile;
  const flag = nameFlag(state.name);
  const sender = world.sender.getName().replace(/^\//, "");
  const receiver = world.receiver.getName().replace(/^\//, "");
  const receiverMailboxes = hostedDomains(bob).map((hosted) => hosted.mailbox);
  const postfix = state.memory.postfix.sender === state.memory.postfix.receiver ? state.memory.postfix.sender : `${state.memory.postfix.sender} (sender), ${state.memory.postfix.receiver} (receiver)`;
  const rows: Array<[string, string]> = [
    [`Alice's submission, SMTPS + AUTH (${alice.smtpHost}:${SUBMISSIONS_PORT})`, `127.0.0.1:${world.sender.submissionsPort}`],
    [`Bob's port 25 through the wire (${mxHosts(bob).join(", ")})`, `127.0.0.1:${world.wire.smtpPort}`],
    [`IMAPS ${alice.imapHost}`, `127.0.0.1:${world.sender.imapsPort}`],
    [`IMAPS ${hostedDomains(bob).map((hosted) => hosted.imapHost).join(", ")} (by SNI)`, `127.0.0.1:${world.receiver.imapsPort}`],
    ["resolver (world's network only, not published)", `${world.dns.address}:53`],
  ];
  const width = Math.max(...rows.map(([what]) => what.length));
  const lines = [
    `world "${state.name}" is up: run ${state.memory.runId}, Postfix ${postfix}`,
    `scenario applied: ${state.applied.name}`,
    `state: ${statePath(state.name)}`,
    "",
    "Endpoints",
    ...rows.map(([what, where]) => `  ${what.padEnd(width)}  ${where}`),
    "",
    "Credentials (every mailbox of a provider shares its password)",
    `  ${alice.mailbox}  ${world.sender.password}`,
    `  ${receiverMailboxes.join(", ")}  ${world.receiver.password}`,
    `CA (the only trust anchor): ${ca}`,
    "",
    "Try",
    `  swaks --server 127.0.0.1:${world.sender.submissionsPort} --tls-on-connect --tls-verify --tls-ca-path ${ca} --tls-sni ${alice.smtpHost} \\`,
    `        --auth PLAIN --auth-user ${alice.mailbox} --auth-password '${world.sender.password}' --from ${alice.mailbox} --to ${bob.mailbox}`,
    ...mxHosts(bob).map((mx) => `  swaks --server 127.0.0.1:${world.wire.smtpPort} --tls --tls-verify --tls-ca-path ${ca} --tls-sni ${mx} --quit-after TLS`),
    `  openssl s_client -starttls smtp -connect 127.0.0.1:${world.wire.smtpPort} -servername ${bob.smtpHost} -CAfile ${ca} -verify_hostname ${bob.smtpHost} -brief </dev/null`,
    ...hostedDomains(bob).map((hosted) => `  docker exec ${sender} posttls-finger -c -l verify -F ${CA_IN_CONTAINERS} ${hosted.domain}`),
    `  docker exec ${sender} postqueue -p`,
    `  docker exec ${receiver} doveadm search -u ${bob.mailbox} mailbox INBOX ALL`,
    `  starttls-lab send${flag} --subject hello     starttls-lab apply FILE${flag} [--only NAME]`,
    `  starttls-lab logs${flag} [sender|receiver|wire|dns] [--follow]     starttls-lab down${flag}`,
  ];
  return lines.join("\n") + "\n";
}
