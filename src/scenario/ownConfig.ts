/**
 * "Bring your own config": read the admin's main.cf fragment, master.cf
 * entries and maps that a scenario points to (relative to the scenario
 * file, never outside its folder), and check them against what the test
 * world needs. Settings that would let mail leave the world or blind the
 * harness are refused; settings the world must keep (its certificates, its
 * CA, its trusted networks) are kept and the reader is told.
 */
import { readFileSync, realpathSync, statSync } from "node:fs";
import path from "node:path";
import { packageRoot } from "../paths.js";
import type { PostfixRelease } from "../core/releases.js";
import type { ScenarioProblem } from "./errors.js";
import { recordedParameters, unknownParameterProblem, type NameContext } from "./postfixNames.js";
import { postconfValueProblem } from "./postfixValues.js";
import { postconfParameterPattern } from "./schema.js";
import type { OwnConfig, ProviderSettings, Role, Scenario } from "./types.js";

const MAX_OWN_FILE_BYTES = 1024 * 1024;

/** Refused outright: each would route mail out of the world, or hide what Postfix does. */
const REFUSED: Record<string, string> = {
  maillog_file: "the harness reads Postfix's log from the container's output",
  transport_maps: "the world's routes keep every message inside it",
  default_transport: "the world's routes keep every message inside it",
  relay_transport: "the world's routes keep every message inside it",
  fallback_relay: "a fallback relay would lead out of the world",
  smtp_fallback_relay: "a fallback relay would lead out of the world",
  virtual_mailbox_domains: "the world decides which domains each provider hosts",
  virtual_mailbox_maps: "the world decides which mailboxes exist",
  virtual_transport: "local mail goes to the world's Dovecot",
  mydestination: "the world decides which domains each provider hosts",
  myhostname: "the host names are the world's (smtp.infomaniak.test, mx.iroco.test)",
  inet_interfaces: "the containers' network is the world's",
  inet_protocols: "the world's network is IPv4 only",
  queue_directory: "the harness reads the queue where Postfix keeps it",
};

/** Kept at the harness's value (the admin is told): the world's own certificates, CA and trusted networks. */
const KEPT: Record<string, string> = {
  smtpd_tls_cert_file: "choose the certificate with `certificate:`",
  smtpd_tls_key_file: "choose the certificate with `certificate:`",
  smtpd_tls_chain_files: "choose the certificate with `certificate:`",
  smtpd_tls_eccert_file: "choose the certificate with `certificate:` and `certificateKey:`",
  smtpd_tls_eckey_file: "choose the certificate with `certificate:` and `certificateKey:`",
  smtp_tls_CAfile: "the harness CA is the world's only trust anchor",
  smtp_tls_CApath: "the harness CA is the world's only trust anchor",
  mynetworks: "only the container itself is trusted, so the open-relay checks mean something",
  smtp_tls_session_cache_database: "each scenario negotiates from scratch",
  smtp_tls_loglevel: "the harness needs its own TLS log level to observe trust and certificates",
  max_use: "one connection per daemon keeps scenarios apart",
};

const OWNED_SERVICES = new Set(["smtp/inet", "submissions/inet", "postlog/unix-dgram", "lmtp/unix", "smtp/unix"]);

export interface Resolved {
  own?: OwnConfig;
  problems: ScenarioProblem[];
}

type MainCfSetting = ReturnType<typeof parseMainCf>[number];

/** The harness's baseline main.cf (docker/mta/main.cf), under every scenario's settings. */
let harnessBaseline: MainCfSetting[] | undefined;
export function harnessMainCf(): readonly MainCfSetting[] {
  harnessBaseline ??= parseMainCf(readFileSync(path.join(packageRoot(), "docker", "mta", "main.cf"), "utf8"));
  return harnessBaseline;
}

/** Parameter names the harness sets itself, for the override notice. */
function harnessSettings(): Set<string> {
  return new Set(harnessMainCf().map((setting) => setting.name));
}

/** "name = value" lines with continuation lines (leading whitespace); comments and blank lines skipped. */
export function parseMainCf(text: string): Array<{ name: string; value: string; line: number; valueColumn: number }> {
  const settings: Array<{ name: string; value: string; line: number; valueColumn: number }> = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    if (/^\s*(#|$)/.test(raw)) return;
    const last = settings.at(-1);
    if (/^\s/.test(raw) && last) {
      last.value = `${last.value} ${raw.trim()}`.trim();
      return;
    }
    const match = /^([^=\s]+)(\s*=\s*)(.*)$/.exec(raw);
    const line = index + 1;
    settings.push(
      match
        ? { name: match[1]!, value: match[3]!.trim(), line, valueColumn: match[1]!.length + match[2]!.length + 1 }
        : { name: "", value: raw, line, valueColumn: 1 },
    );
  });
  return settings;
}

/** master.cf services and the program each runs (the 8th field: smtp, pipe, …), for service-defined names. */
function masterCfServices(text: string): Map<string, string> {
  const services = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const fields = /^([^\s#]\S*)(?:\s+\S+){6}\s+(\S+)/.exec(line);
    if (fields) services.set(fields[1]!, fields[2]!);
  }
  return services;
}

function readOwnFile(
  scenarioDir: string,
  relative: string,
  problem: (message: string) => void,
): { file: string; content: string } | undefined {
  const absolute = path.resolve(scenarioDir, relative);
  const inside = (candidate: string) => {
    const rel = path.relative(scenarioDir, candidate);
    return rel !== "" && !rel.startsWith("..") && !path.isAbsolute(rel);
  };
  if (path.isAbsolute(relative) || !inside(absolute)) {
    problem(`${relative} is outside the scenario's folder; own files must sit next to the scenario (or below it)`);
    return undefined;
  }
  let stats;
  try {
    stats = statSync(absolute);
  } catch {
    problem(`${relative}: no such file (looked for ${path.relative(process.cwd(), absolute)})`);
    return undefined;
  }
  if (!stats.isFile()) return problem(`${relative} is not a file`), undefined;
  if (!inside(realpathSync(absolute))) return problem(`${relative} links outside the scenario's folder`), undefined;
  if (stats.size > MAX_OWN_FILE_BYTES) return problem(`${relative} is larger than 1 MiB`), undefined;
  const content = readFileSync(absolute, "utf8");
  if (content.includes("\u0000")) return problem(`${relative} is a binary file; Postfix configuration is text`), undefined;
  return { file: path.relative(process.cwd(), absolute), content };
}

function checkRelayhost(value: string): string | undefined {
  if (value === "") return undefined;
  return /^\[?[a-z0-9.-]+\.test\]?(:\d+)?$/i.test(value) ? undefined : `relayhost ${value} is outside *.test: mail would leave the world`;
}

function resolveProvider(role: Role, settings: ProviderSettings, scenarioDir: string, at: { file: string; line: number }, unpinned: PostfixRelease | undefined): Resolved {
  const paths = settings.ownPaths;
  if (!paths) return { problems: [] };
  const problems: ScenarioProblem[] = [];
  const problem = (field: string) => (message: string) => problems.push({ file: at.file, line: at.line, field: `${role}.${field}`, message });
  const own: OwnConfig = { files: [], overrides: [] };

  const mainCf = paths.mainCf ? readOwnFile(scenarioDir, paths.mainCf, problem("mainCf")) : undefined;
  const masterCf = paths.masterCf ? readOwnFile(scenarioDir, paths.masterCf, problem("masterCf")) : undefined;

  const written = mainCf ? parseMainCf(mainCf.content) : [];
  // Postfix judges every name against the server's whole configuration: both files and the scenario's postconf.
  const release = settings.postfix ?? unpinned;
  const known = recordedParameters(undefined, release ? [release] : undefined);
  const names: NameContext = {
    settings: [...harnessMainCf(), ...written].map(({ name, value }) => [name, value] as const).concat(Object.entries(settings.postconf)),
    ...(masterCf && { masterCf: masterCf.content }),
    services: masterCfServices(masterCf?.content ?? ""),
  };

  if (mainCf) {
    const kept: string[] = [];
    const settingsIn = written.filter((setting) => {
      const where = `${mainCf.file}:${setting.line}`;
      if (!postconfParameterPattern.test(setting.name)) {
        problem("mainCf")(`${where}: not a "parameter = value" line: ${setting.value}`);
        return false;
      }
      const unknown = unknownParameterProblem(setting.name, names, known);
      if (unknown) problem("mainCf")(`${where}:1: ${setting.name}: ${unknown}`);
      const badValue = postconfValueProblem(setting.name, setting.value);
      if (badValue) problem("mainCf")(`${where}:${setting.valueColumn}: ${setting.name}: ${badValue}`);
      const refused = REFUSED[setting.name];
      if (refused) problem("mainCf")(`${where}: ${setting.name} cannot be changed in the test world (${refused})`);
      const relay = setting.name === "relayhost" ? checkRelayhost(setting.value) : undefined;
      if (relay) problem("mainCf")(`${where}: ${relay}`);
      if (KEPT[setting.name]) {
        kept.push(`${setting.name} (kept at the harness's value: ${KEPT[setting.name]})`);
        return false;
      }
      return !refused && !relay && !unknown && !badValue;
    });
    own.mainCf = { file: mainCf.file, settings: settingsIn.map(({ name, value, line }) => ({ name, value, line })) };
    const replaced = settingsIn.filter((setting) => harnessSettings().has(setting.name)).map((setting) => setting.name);
    if (replaced.length > 0) own.overrides.push(`${mainCf.file} replaces the harness's ${replaced.join(", ")}`);
    if (kept.length > 0) own.overrides.push(`${mainCf.file} sets, but the world keeps, ${kept.join("; ")}`);
  }

  if (masterCf) {
    masterCf.content.split(/\r?\n/).forEach((line, index) => {
      const entry = /^([^\s#]\S*)\s+(\S+)\s/.exec(line);
      if (entry && OWNED_SERVICES.has(`${entry[1]}/${entry[2]}`)) {
        problem("masterCf")(`${masterCf.file}:${index + 1}: the harness runs ${entry[1]}/${entry[2]} itself; set its -o options through mainCf or postconf instead`);
      }
      // A service's own settings (-o name=value) are read by the same Postfix, with the same names and values.
      for (const option of line.matchAll(/(?:^|\s)-o\s+([a-z][a-z0-9_]*)=(\S*)/g)) {
        const [, name = "", value = ""] = option;
        const nameColumn = (option.index ?? 0) + option[0].indexOf(name) + 1;
        const at = (column: number) => `${masterCf.file}:${index + 1}:${column}: -o ${name}`;
        const unknown = unknownParameterProblem(name, names, known);
        if (unknown) problem("masterCf")(`${at(nameColumn)}: ${unknown}`);
        const badValue = postconfValueProblem(name, value);
        if (badValue) problem("masterCf")(`${at(nameColumn + name.length + 1)}: ${badValue}`);
      }
    });
    own.masterCf = { file: masterCf.file, text: masterCf.content };
    own.overrides.push(`${masterCf.file}: its services run unchrooted, like the rest of the world`);
  }

  for (const [target, relative] of Object.entries(paths.files ?? {})) {
    if (["/etc/postfix/main.cf", "/etc/postfix/master.cf"].includes(target)) {
      problem("files")(`${target}: give main.cf and master.cf as mainCf and masterCf, not as files`);
      continue;
    }
    const read = readOwnFile(scenarioDir, relative, problem(`files.${target}`));
    if (read) own.files.push({ target, file: read.file, content: read.content });
  }
  return { own, problems };
}

/** Reads and checks every own-config file the scenario names; the scenario gains `own` on each provider. */
/** `unpinned`: the release every provider the scenario does not pin will run (--postfix); absent, any release. */
export function resolveOwnConfig(scenario: Scenario, scenarioFile: string, unpinned?: PostfixRelease): ScenarioProblem[] {
  const scenarioDir = path.dirname(path.resolve(scenarioFile));
  const problems: ScenarioProblem[] = [];
  for (const role of ["sender", "receiver"] as Role[]) {
    const resolved = resolveProvider(role, scenario[role], scenarioDir, scenario.source, unpinned);
    problems.push(...resolved.problems);
    if (resolved.own) scenario[role].own = resolved.own;
  }
  return problems;
}
