/**
 * The tools admins already use, run against a world that stays up, and
 * what they print read into fields the harness's observation also has.
 * swaks runs on this machine (Debian's, scripts/ensure-swaks.sh); Postfix's
 * posttls-finger runs inside the sender, where it resolves and connects as
 * the sender's Postfix does.
 */
import { execFile } from "node:child_process";

export interface ToolRun {
  command: string;
  output: string;
}

/** Runs a probe and keeps its whole output whatever its exit code: a refused handshake is an answer, not an error. */
export function runTool(file: string, args: string[]): Promise<ToolRun> {
  const command = [file, ...args].join(" ");
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: 60_000 }, (error, stdout, stderr) => {
      if (error && typeof error.code !== "number") reject(new Error(`${command}: ${error.message}`));
      else resolve({ command, output: `${stdout}${stderr}` });
    });
  });
}

export interface SwaksStartTls {
  offered: boolean;
  version?: string;
  cipher?: string;
  /** The CN of the certificate the server presented, when the handshake completed. */
  peerCN?: string;
  /** Why the TLS startup failed (with --tls-verify: the certificate was not accepted). */
  failure?: string;
}

/** swaks --tls … --quit-after TLS, as swaks 20201014 words it. */
export function readSwaks(output: string): SwaksStartTls {
  const started = /^=== TLS started with cipher (TLSv[\d.]+):(\S+):\d+/m.exec(output);
  const peer = /^=== TLS peer DN="[^"]*\bCN=([^/",]+)/m.exec(output);
  const failure = /^\*\*\* TLS startup failed \((.*)\)$/m.exec(output);
  return {
    offered: /^<-\s+250[- ]STARTTLS\s*$/m.test(output),
    ...(started ? { version: started[1], cipher: started[2] } : {}),
    ...(peer ? { peerCN: peer[1] } : {}),
    ...(failure ? { failure: failure[1] } : {}),
  };
}

export interface FingerReport {
  offered: boolean;
  /** "Verified", "Trusted", "Untrusted" or "Anonymous", as posttls-finger (and the smtp client) log it. */
  trust?: string;
  version?: string;
  cipher?: string;
  subjectCN?: string;
  verificationFailure?: string;
}

/** posttls-finger's report of one connection (its chat on, so the EHLO reply shows whether STARTTLS was offered). */
export function readPosttlsFinger(output: string): FingerReport {
  const established = /(\w+) TLS connection established to \S+: (TLSv[\d.]+) with cipher (\S+)/.exec(output);
  const subject = /subject_CN=([^,]+),/.exec(output);
  const failed = /server certificate verification failed for \S+: (.*)$/m.exec(output);
  return {
    offered: /< 250[- ]STARTTLS\s*$/m.test(output),
    ...(established ? { trust: established[1], version: established[2], cipher: established[3] } : {}),
    ...(subject ? { subjectCN: subject[1] } : {}),
    ...(failed ? { verificationFailure: failed[1] } : {}),
  };
}
