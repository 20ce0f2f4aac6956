/**
 * The sequence diagram of one scenario, as inline SVG: six lifelines
 * (Alice, the world's DNS, Infomaniak → wire → Iroco → Bob), Alice's
 * submission, what Infomaniak asked the DNS (MX, TLSA, the MTA-STS policy),
 * every port-25 connection the wire recorded, and what became of the message.
 *
 * On the port-25 hop, coloured and labelled bands sit behind the steps: what
 * anyone on the wire could read (clear text), the TLS handshake, what stayed
 * encrypted, and what a man in the middle decrypted. Every text is escaped:
 * SMTP lines come from the network.
 *
 * The SVG carries its colours as attributes; fonts and text halos come from
 * DIAGRAM_CSS, which the page includes once.
 */
import type { Observation } from "../observe/types.js";
import type { Scenario } from "../scenario/types.js";
import type { Direction, WireMode, WireTranscript } from "../wire/transcript.js";
import { formatBytes, oneLine, truncate } from "./describe.js";
import {
  describeTraffic,
  hopSteps,
  zoneOf,
  type ContentStep,
  type EncryptedStep,
  type HandshakeStep,
  type HelloStep,
  type HopStep,
  type SmtpStep,
  type Zone,
} from "./hopSteps.js";
import { attributes, escapeMarkup } from "./markup.js";
import type { ScenarioResult } from "../core/result.js";

// ------------------------------------------------------------------ geometry

type Actor = "alice" | "dns" | "infomaniak" | "wire" | "iroco" | "bob";

export const DIAGRAM_WIDTH = 1170;
// The DNS lane sits beside Infomaniak, the only one that asks it: its lookups never cross the hop.
const X: Record<Actor, number> = { alice: 80, dns: 245, infomaniak: 420, wire: 650, iroco: 880, bob: 1085 };
const HEAD_WIDTH: Record<Actor, number> = { alice: 150, dns: 140, infomaniak: 170, wire: 190, iroco: 170, bob: 140 };
const HEAD_TOP = 10;
const HEAD_HEIGHT = 46;
const TOP = HEAD_TOP + HEAD_HEIGHT + 14;
const BAND_LEFT = X.infomaniak - 62;
const BAND_RIGHT = X.iroco + 62;
const LINE = 15;
const FONT = 12;
const SMALL = 11;
/** Average glyph width of DejaVu Sans (Mono) in em: enough to keep labels inside their space. */
const EM_PER_CHAR = 0.61;
const MAX_REPLY_LINES = 8;

/** The SMTP client of the hop is Alice's provider, the server Bob's. */
const HOP_SIDE: Record<Direction, Actor> = { client: "infomaniak", server: "iroco" };
const NAME: Record<Actor, string> = { alice: "Alice", dns: "DNS", infomaniak: "Infomaniak", wire: "wire", iroco: "Iroco", bob: "Bob" };

// -------------------------------------------------------------------- styles

type Tone = "normal" | "muted" | "danger" | "warn" | "ok" | "attack" | "secret";

const TONE_FILL: Record<Tone, string> = {
  normal: "#1d2939",
  muted: "#667085",
  danger: "#b42318",
  warn: "#93370d",
  ok: "#067647",
  attack: "#b42318",
  secret: "#6941c6",
};

interface ArrowStyle {
  stroke: string;
  width: number;
  dash?: string;
}

const ARROW: Record<"plain" | "reply" | "encrypted" | "handshake" | "decrypted" | "alert" | "deliver" | "bounce" | "reject", ArrowStyle> = {
  plain: { stroke: "#344054", width: 1.5 },
  reply: { stroke: "#667085", width: 1.3, dash: "5 3" },
  encrypted: { stroke: "#067647", width: 3 },
  handshake: { stroke: "#1d4ed8", width: 1.5 },
  decrypted: { stroke: "#6941c6", width: 1.8 },
  alert: { stroke: "#b54708", width: 1.8 },
  deliver: { stroke: "#067647", width: 2.2 },
  bounce: { stroke: "#b42318", width: 2, dash: "7 4" },
  reject: { stroke: "#b42318", width: 2 },
};

interface BandStyle {
  fill: string;
  accent: string;
  title: string;
  caption: string;
}

/** Background bands behind the hop's steps: colour and a label, never colour alone. */
export const BANDS: Record<Zone, BandStyle> = {
  clear: {
    fill: "#fdeceb",
    accent: "#d92d20",
    title: "READABLE BY ANYONE ON THE WIRE",
    caption: "clear text: an eavesdropper reads every line",
  },
  handshake: {
    fill: "#eaf1ff",
    accent: "#1d4ed8",
    title: "TLS HANDSHAKE",
    caption: "names and versions visible, no mail",
  },
  encrypted: {
    fill: "#e3f5e9",
    accent: "#067647",
    title: "ENCRYPTED",
    caption: "only sizes and timing visible",
  },
  decrypted: {
    fill: "#f1e9ff",
    accent: "#6941c6",
    title: "DECRYPTED BY THE WIRE",
    caption: "the attacker in the middle reads this",
  },
};

/** Fonts and text halos; the page includes it once for all diagrams. */
export const DIAGRAM_CSS = `
svg.sd { display: block; width: 100%; height: auto; max-width: ${DIAGRAM_WIDTH}px; background: #fff; }
svg.sd text { font-family: "DejaVu Sans", "Segoe UI", Arial, sans-serif; font-size: ${FONT}px; }
svg.sd text.mono { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; }
svg.sd text.small { font-size: ${SMALL}px; }
svg.sd text.strong { font-weight: 700; }
svg.sd text.head { font-size: 14px; font-weight: 700; }
svg.sd text.band-title { font-size: 11px; font-weight: 700; letter-spacing: 0.04em; }
svg.sd text.halo { paint-order: stroke; stroke: #fff; stroke-width: 4px; stroke-linejoin: round; }
${(Object.keys(BANDS) as Zone[]).map((z) => `svg.sd .z-${z} text.halo { stroke: ${BANDS[z].fill}; }`).join("\n")}
`;

// ---------------------------------------------------------------- primitives

interface Label {
  text: string;
  mono?: boolean;
  small?: boolean;
  strong?: boolean;
  tone?: Tone;
}

/** A horizontal slice of the diagram; `zone` puts it inside a band. */
interface Row {
  height: number;
  zone?: Zone;
  svg(y: number): string;
}

function charWidth(label: Label): number {
  return (label.small ? SMALL : FONT) * EM_PER_CHAR * (label.strong ? 1.08 : 1);
}

function labelWidth(label: Label): number {
  return Array.from(label.text).length * charWidth(label);
}

/** The label cut to fit `width` pixels (one line; newlines and runs of spaces collapsed). */
function fit(label: Label, width: number): Label {
  const max = Math.max(4, Math.floor(width / charWidth(label)));
  return { ...label, text: truncate(label.text.replace(/[\r\n\t]+/g, " "), max) };
}

/** Word-wraps a text into at most `maxLines` lines of `maxChars`; the last line ends with "…" when cut. */
export function wrapText(text: string, maxChars: number, maxLines: number): string[] {
  const words = oneLine(text).split(" ").filter((w) => w !== "");
  const lines: string[] = [];
  let current = "";
  let cut = false;
  for (const word of words) {
    const candidate = current === "" ? word : `${current} ${word}`;
    if (current === "" || Array.from(candidate).length <= maxChars) {
      current = candidate;
      continue;
    }
    if (lines.length === maxLines - 1) {
      cut = true;
      break;
    }
    lines.push(current);
    current = word;
  }
  if (current !== "") lines.push(current);
  const wrapped = lines.map((l) => truncate(l, maxChars));
  const last = wrapped.length - 1;
  if (cut && last >= 0) wrapped[last] = truncate(`${wrapped[last] ?? ""} …`, maxChars);
  return wrapped;
}

/** A label as `<text>`; `halo` outlines it in its background colour so that lines behind it do not cross it. */
function text(x: number, y: number, label: Label, halo = true): string {
  const classes = [halo ? "halo" : "", label.mono ? "mono" : "", label.small ? "small" : "", label.strong ? "strong" : ""]
    .filter((c) => c !== "")
    .join(" ");
  const fill = TONE_FILL[label.tone ?? "normal"];
  return `<text${attributes({ x: round(x), y: round(y), "text-anchor": "middle", class: classes, fill })}>${escapeMarkup(label.text)}</text>`;
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

function line(x1: number, y1: number, x2: number, y2: number, style: ArrowStyle): string {
  return `<line${attributes({
    x1: round(x1),
    y1: round(y1),
    x2: round(x2),
    y2: round(y2),
    stroke: style.stroke,
    "stroke-width": style.width,
    "stroke-dasharray": style.dash,
  })}/>`;
}

function arrowHead(x: number, y: number, direction: 1 | -1, color: string): string {
  const back = x - direction * 10;
  return `<polygon${attributes({ points: `${round(x)},${round(y)} ${round(back)},${round(y - 5)} ${round(back)},${round(y + 5)}`, fill: color })}/>`;
}

/** A horizontal arrow from x1 to x2; `both` puts a head at each end. */
function arrow(x1: number, x2: number, y: number, style: ArrowStyle, both = false): string {
  const dir: 1 | -1 = x2 >= x1 ? 1 : -1;
  const start = both ? x1 + dir * 8 : x1;
  const parts = [line(start, y, x2 - dir * 8, y, style), arrowHead(x2, y, dir, style.stroke)];
  if (both) parts.push(arrowHead(x1, y, dir === 1 ? -1 : 1, style.stroke));
  return parts.join("");
}

function group(className: string, content: string, title?: string): string {
  const t = title === undefined ? "" : `<title>${escapeMarkup(title)}</title>`;
  return `<g${attributes({ class: className })}>${t}${content}</g>`;
}

// ----------------------------------------------------------------- row kinds

interface ArrowOptions {
  style: ArrowStyle;
  zone?: Zone;
  both?: boolean;
  /** Decrypted by the wire: the arrow stops at the wire, which reads it and passes it on. */
  throughWire?: boolean;
  title?: string;
}

/** An arrow between two lifelines with its labels stacked above it. */
function arrowRow(from: Actor, to: Actor, labels: Label[], options: ArrowOptions): Row {
  const x1 = X[from];
  const x2 = X[to];
  const room = Math.abs(x2 - x1) - 16;
  const fitted = labels.map((l) => fit(l, room));
  const height = 8 + fitted.length * LINE + 12;
  return {
    height,
    zone: options.zone,
    svg(y) {
      const mid = (x1 + x2) / 2;
      const texts = fitted.map((l, i) => text(mid, y + 8 + (i + 1) * LINE - 3, l)).join("");
      const ay = y + height - 7;
      let drawn: string;
      if (options.throughWire) {
        const w = X.wire;
        drawn =
          arrow(x1, w - 7, ay, options.style) +
          arrow(w + (x2 > x1 ? 7 : -7), x2, ay, options.style) +
          `<circle${attributes({ cx: w, cy: ay, r: 6, fill: "#fff", stroke: options.style.stroke, "stroke-width": 2 })}/>` +
          `<circle${attributes({ cx: w, cy: ay, r: 2.5, fill: options.style.stroke })}/>`;
      } else {
        drawn = arrow(x1, x2, ay, options.style, options.both === true);
      }
      return group(`step${options.zone ? ` z-${options.zone}` : ""}`, drawn + texts, options.title);
    },
  };
}

type NoteTone = "attack" | "warn" | "info" | "danger";

const NOTE: Record<NoteTone, { fill: string; stroke: string; dash?: string }> = {
  attack: { fill: "#fef3f2", stroke: "#d92d20", dash: "5 3" },
  warn: { fill: "#fffaeb", stroke: "#dc6803" },
  info: { fill: "#f9fafb", stroke: "#98a2b3", dash: "4 3" },
  danger: { fill: "#fef3f2", stroke: "#b42318" },
};

/** A note box centred on a lifeline. */
function noteRow(at: Actor, labels: Label[], tone: NoteTone, zone?: Zone, className = "note"): Row {
  const maxWidth = 470;
  const fitted = labels.map((l) => fit(l, maxWidth - 20));
  const width = Math.min(maxWidth, Math.max(150, ...fitted.map((l) => labelWidth(l) + 24)));
  const boxHeight = fitted.length * LINE + 10;
  const style = NOTE[tone];
  return {
    height: boxHeight + 12,
    zone,
    svg(y) {
      const left = Math.min(Math.max(6, X[at] - width / 2), DIAGRAM_WIDTH - 6 - width);
      const mid = left + width / 2;
      const box = `<rect${attributes({
        x: round(left),
        y: y + 6,
        width: round(width),
        height: boxHeight,
        rx: 5,
        fill: style.fill,
        stroke: style.stroke,
        "stroke-width": 1.5,
        "stroke-dasharray": style.dash,
      })}/>`;
      const texts = fitted.map((l, i) => text(mid, y + 6 + 4 + (i + 1) * LINE - 3, l, false)).join("");
      return group(`${className}${zone ? ` z-${zone}` : ""}`, box + texts);
    },
  };
}

/** Empty room at the top of a band, where the band's label goes. */
function bandLabelRow(zone: Zone): Row {
  return { height: 24, zone, svg: () => "" };
}

function starttlsRow(): Row {
  const label: Label = { text: "STARTTLS accepted (220): the connection switches to TLS here", strong: true };
  const width = labelWidth(label) + 24;
  return {
    height: 36,
    svg(y) {
      const my = y + 18;
      const rule = line(BAND_LEFT, my, BAND_RIGHT, my, { stroke: "#101828", width: 2.5, dash: "10 4" });
      const box = `<rect${attributes({ x: round(X.wire - width / 2), y: my - 11, width: round(width), height: 22, rx: 11, fill: "#101828" })}/>`;
      const t = `<text${attributes({ x: X.wire, y: my + 4, "text-anchor": "middle", class: "strong", fill: "#ffffff" })}>${escapeMarkup(label.text)}</text>`;
      return group("starttls", rule + box + t, "STARTTLS: clear text ends, TLS begins");
    },
  };
}

const MODE_TEXT: Record<WireMode, string> = {
  pass: "only watching",
  "strip-starttls": "attacker: hides STARTTLS",
  "fail-handshake": "attacker: breaks the TLS handshake",
  mitm: "attacker: ends TLS itself",
  inject: "attacker: injects a command after STARTTLS",
};

function isAttack(mode: WireMode): boolean {
  return mode !== "pass";
}

/** The start of one port-25 connection. */
function hopHeaderRow(hop: WireTranscript, count: number): Row {
  const label: Label = {
    text: `${count > 1 ? `connection ${hop.id}` : "the port-25 connection"} · wire: ${hop.mode} (${MODE_TEXT[hop.mode] ?? hop.mode})`,
    small: true,
    strong: true,
    tone: isAttack(hop.mode) ? "attack" : "muted",
  };
  return {
    height: 30,
    svg(y) {
      const my = y + 20;
      return group(
        "hop",
        line(BAND_LEFT, my, BAND_RIGHT, my, { stroke: "#98a2b3", width: 1 }) +
          text(X.wire, my - 5, fit(label, BAND_RIGHT - BAND_LEFT - 20)),
      );
    },
  };
}

function closedRow(sides: Direction[]): Row {
  const who = sides.map((s) => NAME[HOP_SIDE[s]]);
  const label: Label = {
    text: who.length > 1 ? "connection closed (both sides)" : `${who[0] ?? "one side"} closed the connection`,
    small: true,
    tone: "muted",
  };
  return {
    height: 22,
    svg(y) {
      const marks = sides
        .map((s) => {
          const x = X[HOP_SIDE[s]];
          const c = { stroke: "#667085", width: 1.5 };
          return line(x - 5, y + 6, x + 5, y + 16, c) + line(x - 5, y + 16, x + 5, y + 6, c);
        })
        .join("");
      return group("closed", marks + text(X.wire, y + 15, label));
    },
  };
}

// ---------------------------------------------------------------- hop steps

/** The STARTTLS command, or the EHLO keyword offering it. */
const STARTTLS_LINE = /^(\d{3}[ -])?STARTTLS\b/i;

function smtpRow(step: SmtpStep): Row {
  const from = HOP_SIDE[step.from];
  const to = HOP_SIDE[step.from === "client" ? "server" : "client"];
  const shown = step.lines.length > MAX_REPLY_LINES ? step.lines.slice(0, MAX_REPLY_LINES - 1) : step.lines;
  const labels: Label[] = shown.map((l) => ({ text: l, mono: true, strong: STARTTLS_LINE.test(l) }));
  if (shown.length < step.lines.length) {
    labels.push({ text: `… ${step.lines.length - shown.length} more lines`, small: true, tone: "muted" });
  }
  const decrypted = step.zone === "decrypted";
  return arrowRow(from, to, labels, {
    style: decrypted ? ARROW.decrypted : step.from === "client" ? ARROW.plain : ARROW.reply,
    zone: step.zone,
    throughWire: decrypted,
    title: decrypted ? "inside TLS, read by the wire" : "clear text, readable on the wire",
  });
}

function contentRow(step: ContentStep): Row {
  const labels: Label[] = [
    {
      text: `message content (${step.lines} line${step.lines === 1 ? "" : "s"})${step.ended ? "" : ", cut off"}`,
      strong: true,
    },
  ];
  if (step.subject !== undefined) labels.push({ text: step.subject, mono: true });
  if (step.zone === "clear") {
    labels.push(
      step.bodyReadable
        ? { text: "the body crossed readable: anyone on the wire could read it", small: true, tone: "danger" }
        : { text: "the message's marker was not seen in clear text", small: true, tone: "muted" },
    );
  } else {
    labels.push(
      step.bodyReadable
        ? { text: "the wire decrypted the body and read it", small: true, tone: "secret" }
        : { text: "the marker was not in what the wire decrypted", small: true, tone: "muted" },
    );
  }
  const decrypted = step.zone === "decrypted";
  return arrowRow(HOP_SIDE[step.from], HOP_SIDE[step.from === "client" ? "server" : "client"], labels, {
    style: decrypted ? ARROW.decrypted : { ...ARROW.plain, width: 2.5 },
    zone: step.zone,
    throughWire: decrypted,
    title: "the DATA content, collapsed",
  });
}

function helloRow(step: HelloStep): Row {
  const labels: Label[] =
    step.message === "ClientHello"
      ? [
          { text: `ClientHello · ${step.sni !== undefined ? `SNI ${step.sni}` : "no SNI (no server name sent)"}`, strong: true },
          { text: step.offeredVersions ? `offers ${step.offeredVersions.join(", ")}` : "offered versions unknown", small: true },
        ]
      : [
          { text: `ServerHello · ${step.chosenVersion ?? "version unknown"}`, strong: true },
          { text: `cipher ${step.cipherSuite ?? "unknown"}`, small: true, mono: true },
          ...(step.keyExchange !== undefined ? [{ text: `key exchange ${step.keyExchange}`, small: true, mono: true }] : []),
        ];
  if (step.also.length > 0) labels.push({ text: `+ ${step.also.join(", ")} (readable)`, small: true });
  return arrowRow(HOP_SIDE[step.from], HOP_SIDE[step.from === "client" ? "server" : "client"], labels, {
    style: ARROW.handshake,
    zone: "handshake",
  });
}

function encryptedRow(step: EncryptedStep): Row {
  const total = { records: step.client.records + step.server.records, bytes: step.client.bytes + step.server.bytes };
  const both = step.client.records > 0 && step.server.records > 0;
  const labels: Label[] = [{ text: describeTraffic(total), strong: true, tone: "ok" }];
  if (both) {
    labels.push({
      text: `Infomaniak → Iroco: ${step.client.records} (${formatBytes(step.client.bytes)}) · Iroco → Infomaniak: ${step.server.records} (${formatBytes(step.server.bytes)})`,
      small: true,
    });
  }
  labels.push({ text: "contents unreadable on the wire", small: true, tone: "muted" });
  const from: Direction = step.client.records > 0 ? "client" : "server";
  return arrowRow(HOP_SIDE[from], HOP_SIDE[from === "client" ? "server" : "client"], labels, {
    style: ARROW.encrypted,
    zone: "encrypted",
    both,
    title: "encrypted TLS records",
  });
}

function tamperedLabels(from: Direction, what: string): Label[] {
  return [
    { text: "ATTACKER on the wire", strong: true, tone: "attack" },
    ...wrapText(what, 60, 3).map((t) => ({ text: t, tone: "attack" as Tone })),
    {
      text: from === "server" ? "(changed what Iroco sent to Infomaniak)" : "(changed what Infomaniak sent to Iroco)",
      small: true,
      tone: "muted",
    },
  ];
}

/** The readable messages of a handshake record, or what a record holding part of one is. */
function handshakeLabel(step: HandshakeStep): string {
  if (step.messages.length > 0) return step.messages.join(", ");
  return `handshake record, ${formatBytes(step.recordBytes)} (part of a message, continued in the next record)`;
}

/** One step's rows; `zone` is the band the step sits in. */
function stepRows(step: HopStep, zone: Zone | undefined): Row[] {
  switch (step.kind) {
    case "smtp":
      return [smtpRow(step)];
    case "content":
      return [contentRow(step)];
    case "starttls":
      return [starttlsRow()];
    case "hello":
      return [helloRow(step)];
    case "handshake":
      return [
        arrowRow(HOP_SIDE[step.from], HOP_SIDE[step.from === "client" ? "server" : "client"], [{ text: handshakeLabel(step), small: true }], {
          style: ARROW.handshake,
          zone: "handshake",
        }),
      ];
    case "alert":
      return [
        arrowRow(
          HOP_SIDE[step.from],
          HOP_SIDE[step.from === "client" ? "server" : "client"],
          [{ text: `TLS alert: ${[step.level, step.description ?? "unknown"].filter((p) => p !== undefined).join(" ")}`, strong: true, tone: "warn" }],
          { style: ARROW.alert, zone: "handshake" },
        ),
      ];
    case "encrypted":
      return [encryptedRow(step)];
    case "tampered":
      return [noteRow("wire", tamperedLabels(step.from, step.what), "attack", zone, "note attacker")];
    case "closed":
      return [closedRow(step.sides)];
  }
}

/** The injected-command note, shown right after STARTTLS (inject mode). */
function injectionRow(hop: WireTranscript, observation: Observation | undefined): Row | undefined {
  const injected = hop.transcript.injected;
  if (injected === undefined) return undefined;
  const discarded = observation?.wire?.injection?.discarded;
  const outcome =
    discarded === undefined ? "" : discarded ? "Iroco discarded it, as it should" : "Iroco executed it!";
  return noteRow(
    "wire",
    [
      { text: "ATTACKER pipelined a command right after STARTTLS", strong: true, tone: "attack" },
      { text: injected, mono: true, tone: "attack" },
      ...(outcome === "" ? [] : [{ text: outcome, small: true, tone: (discarded ? "ok" : "danger") as Tone }]),
    ],
    "attack",
    undefined,
    "note attacker",
  );
}

/** The rows of one connection; a band label opens each band. */
function hopRows(hop: WireTranscript, count: number, observation?: Observation): Row[] {
  const rows: Row[] = [hopHeaderRow(hop, count)];
  let current: Zone | undefined;
  let injectedShown = false;
  for (const step of hopSteps(hop.transcript)) {
    const zone = zoneOf(step) ?? (step.kind === "tampered" ? current : undefined);
    if (zone !== undefined && zone !== current) rows.push(bandLabelRow(zone));
    current = zone;
    rows.push(...stepRows(step, zone));
    if (step.kind === "starttls" && !injectedShown) {
      const injection = injectionRow(hop, observation);
      if (injection) rows.push(injection);
      injectedShown = true;
    }
  }
  return rows;
}

// ------------------------------------------------------ submission, outcome

function submissionTarget(scenario: Scenario): Actor {
  return scenario.message.via.provider === "sender" ? "infomaniak" : "iroco";
}

function submissionRows(scenario: Scenario, observation: Observation | undefined): Row[] {
  const via = scenario.message.via;
  const target = submissionTarget(scenario);
  const how =
    via.port === 465
      ? [{ text: "submission: SMTPS, port 465", strong: true }, { text: `TLS from the first byte${via.auth ? ", AUTH" : ", no AUTH"}`, small: true }]
      : [{ text: "submission: SMTP, port 25", strong: true }, { text: via.auth ? "with AUTH" : "no AUTH", small: true }];
  const labels: Label[] = [...how, { text: `Subject: ${scenario.message.subject}`, mono: true, small: true }];
  if (target === "iroco") labels.push({ text: "straight to Iroco: not through the wire", small: true, tone: "muted" });
  const rows = [arrowRow("alice", target, labels, { style: ARROW.plain, title: "Alice's client submits the message" })];
  if (observation?.outcome === "rejected") {
    rows.push(
      arrowRow(
        target,
        "alice",
        [
          { text: "rejected at submission", strong: true, tone: "danger" },
          ...wrapText(observation.reason ?? "no reason given", 34, 3).map((t) => ({ text: t, mono: true, small: true, tone: "danger" as Tone })),
        ],
        { style: ARROW.reject },
      ),
    );
  } else if (observation) {
    rows.push(arrowRow(target, "alice", [{ text: "accepted: queued for Bob", small: true, tone: "muted" }], { style: ARROW.reply }));
  }
  return rows;
}

/**
 * What Infomaniak asked the world's DNS before it connected, from the dns
 * container's log: each answer as an arrow to the DNS lane and back, the
 * MTA-STS resolver's work (its TXT lookup, the policy fetched over HTTPS)
 * and DNSSEC validation failures as notes on the lane.
 */
function dnsRows(observation: Observation | undefined): Row[] {
  const rows: Row[] = [];
  for (const item of observation?.evidence ?? []) {
    if (item.source !== "dns-log") continue;
    const event = item.event;
    switch (event.kind) {
      case "answer": {
        const answered = event.rcode === "NOERROR";
        const question = `${event.type} ${event.name.replace(/\.$/, "")}?`;
        if (event.asker === "sender") {
          rows.push(
            arrowRow("infomaniak", "dns", [{ text: question, mono: true, small: true }, { text: event.rcode, small: true, tone: answered ? "muted" : "warn" }], {
              style: ARROW.reply,
              both: true,
              title: `DNS: ${question} ${event.rcode}`,
            }),
          );
        } else {
          rows.push(noteRow("dns", [{ text: `MTA-STS resolver: ${question}`, mono: true, small: true }, { text: event.rcode, small: true, tone: answered ? "muted" : "warn" }], "info", undefined, "note dns"));
        }
        break;
      }
      case "policyFetch":
        rows.push(
          noteRow(
            "dns",
            [{ text: "MTA-STS policy over HTTPS", small: true, strong: true }, { text: `HTTP ${event.status}`, small: true, tone: event.status === 200 ? "ok" : "warn" }],
            event.status === 200 ? "info" : "warn",
            undefined,
            "note dns",
          ),
        );
        break;
      case "validationFailure":
        rows.push(noteRow("dns", [{ text: "DNSSEC validation failed", small: true, strong: true, tone: "danger" }, ...wrapText(event.message, 40, 2).map((t) => ({ text: t, mono: true, small: true }))], "danger", undefined, "note dns"));
        break;
    }
  }
  return rows;
}

function noHopRow(observation: Observation | undefined): Row {
  const labels: Label[] = [{ text: "no connection on the port-25 hop", strong: true, tone: "muted" }];
  if (observation?.outcome === "rejected") {
    labels.push({ text: "the message was refused before it could leave", small: true, tone: "muted" });
  } else if (!observation) {
    labels.push({ text: "nothing was observed on the wire", small: true, tone: "muted" });
  }
  return noteRow("wire", labels, "info", undefined, "note no-hop");
}

function outcomeRows(result: ScenarioResult): Row[] {
  const o = result.observation;
  if (!o) {
    return [
      noteRow(
        "wire",
        [
          { text: "no observation: the harness could not tell what happened", strong: true, tone: "danger" },
          ...wrapText(result.error ?? "no error text", 64, 3).map((t) => ({ text: t, mono: true, small: true })),
        ],
        "danger",
        undefined,
        "note outcome",
      ),
    ];
  }
  switch (o.outcome) {
    case "delivered": {
      const how = o.transport === "plaintext" ? "arrived in plaintext" : `arrived over TLS${o.tls ? ` (${o.tls.version})` : ""}`;
      return [
        arrowRow(
          "iroco",
          "bob",
          [
            { text: "in Bob's mailbox", strong: true, tone: "ok" },
            { text: how, small: true, tone: o.transport === "plaintext" ? "danger" : "ok" },
          ],
          { style: ARROW.deliver, title: "delivered" },
        ),
      ];
    }
    case "deferred":
      return [
        noteRow(
          "infomaniak",
          [
            { text: "deferred: held in Infomaniak's queue", strong: true, tone: "warn" },
            ...wrapText(o.reason ?? "no reason given", 60, 3).map((t) => ({ text: t, mono: true, small: true })),
            { text: "Bob receives nothing for now", small: true, tone: "muted" },
          ],
          "warn",
          undefined,
          "note outcome",
        ),
      ];
    case "bounced":
      return [
        arrowRow(
          "infomaniak",
          "alice",
          [
            { text: "bounced: non-delivery report", strong: true, tone: "danger" },
            { text: "back to Alice's mailbox", small: true },
            ...wrapText(o.reason ?? "no reason given", 34, 3).map((t) => ({ text: t, mono: true, small: true, tone: "danger" as Tone })),
          ],
          { style: ARROW.bounce, title: "bounced" },
        ),
      ];
    case "rejected":
      return [];
  }
}

// ---------------------------------------------------------------- the whole

function lifelineHead(actor: Actor, sub: string, attack: boolean): string {
  const width = HEAD_WIDTH[actor];
  const x = X[actor] - width / 2;
  const stroke = attack ? "#d92d20" : actor === "wire" ? "#475467" : "#344054";
  const fill = attack ? "#fef3f2" : actor === "wire" ? "#f2f4f7" : "#ffffff";
  const box = `<rect${attributes({ x, y: HEAD_TOP, width, height: HEAD_HEIGHT, rx: 6, fill, stroke, "stroke-width": 1.5 })}/>`;
  const name = `<text${attributes({ x: X[actor], y: HEAD_TOP + 20, "text-anchor": "middle", class: "head lifeline-label", fill: "#101828" })}>${escapeMarkup(NAME[actor])}</text>`;
  const subLabel = fit({ text: sub, small: true }, width - 10);
  const subText = `<text${attributes({ x: X[actor], y: HEAD_TOP + 37, "text-anchor": "middle", class: "small", fill: attack ? "#b42318" : "#475467" })}>${escapeMarkup(subLabel.text)}</text>`;
  return group(`head head-${actor}`, box + name + subText);
}

function lifelines(scenario: Scenario, bottom: number): string {
  const attack = isAttack(scenario.wire);
  const heads: [Actor, string][] = [
    ["alice", scenario.message.from],
    ["dns", "resolver · MTA-STS"],
    ["infomaniak", "smtp.infomaniak.test"],
    ["wire", `port 25 · ${scenario.wire}`],
    ["iroco", "mx.iroco.test"],
    ["bob", scenario.message.to],
  ];
  return heads
    .map(([actor, sub]) => {
      const wire = actor === "wire";
      const style: ArrowStyle = wire
        ? { stroke: attack ? "#d92d20" : "#667085", width: 2, dash: "2 4" }
        : { stroke: "#98a2b3", width: 1.2, dash: "6 4" };
      return line(X[actor], HEAD_TOP + HEAD_HEIGHT, X[actor], bottom, style) + lifelineHead(actor, sub, wire && attack);
    })
    .join("");
}

interface Band {
  zone: Zone;
  top: number;
  bottom: number;
}

/** Contiguous rows of the same zone form one band. */
function bandsOf(rows: Row[], tops: number[]): Band[] {
  const bands: Band[] = [];
  rows.forEach((row, i) => {
    const top = tops[i] ?? 0;
    const last = bands[bands.length - 1];
    if (row.zone === undefined) return;
    const previous = rows[i - 1];
    if (last && previous?.zone === row.zone && last.bottom === top) last.bottom = top + row.height;
    else bands.push({ zone: row.zone, top, bottom: top + row.height });
  });
  return bands;
}

function bandSvg(band: Band): string {
  const style = BANDS[band.zone];
  const rect = `<rect${attributes({ x: BAND_LEFT, y: band.top, width: BAND_RIGHT - BAND_LEFT, height: band.bottom - band.top, fill: style.fill })}/>`;
  const accent = `<rect${attributes({ x: BAND_LEFT, y: band.top, width: 6, height: band.bottom - band.top, fill: style.accent })}/>`;
  const title = `<text${attributes({ x: BAND_LEFT + 14, y: band.top + 16, class: "band-title", fill: style.accent })}>${escapeMarkup(style.title)}</text>`;
  const titleWidth = Array.from(style.title).length * 11 * 0.78;
  const caption = `<text${attributes({ x: BAND_LEFT + 14 + titleWidth + 10, y: band.top + 16, class: "small", fill: style.accent })}>${escapeMarkup(style.caption)}</text>`;
  return group(`band band-${band.zone}`, rect + accent + title + caption, `${style.title}: ${style.caption}`);
}

/** The hops the observation carries (none when the message never reached the hop). */
function hopsOf(observation: Observation | undefined): WireTranscript[] {
  return observation?.wire?.hops ?? [];
}

/** The whole diagram of one scenario, as an `<svg>` element. */
export function sequenceDiagram(result: ScenarioResult): string {
  const { scenario, observation } = result;
  const hops = hopsOf(observation);
  return diagramSvg(scenario, [
    ...submissionRows(scenario, observation),
    ...dnsRows(observation),
    ...(hops.length === 0 ? [noHopRow(observation)] : hops.flatMap((hop) => hopRows(hop, hops.length, observation))),
    ...outcomeRows(result),
  ]);
}

/**
 * The diagram while the message is on its way: Alice's submission and the
 * port-25 connections as far as the wire has seen them, the open one still
 * growing, and no outcome yet.
 */
export function liveSequenceDiagram(scenario: Scenario, hops: readonly WireTranscript[]): string {
  const waiting = noteRow("wire", [{ text: hops.length === 0 ? "waiting for Infomaniak to connect…" : "the hop goes on…", small: true, tone: "muted" }], "info", undefined, "note live");
  return diagramSvg(scenario, [...submissionRows(scenario, undefined), ...hops.flatMap((hop) => hopRows(hop, hops.length, undefined)), waiting]);
}

function diagramSvg(scenario: Scenario, rows: Row[]): string {
  const tops: number[] = [];
  let y = TOP;
  for (const row of rows) {
    tops.push(y);
    y += row.height;
  }
  const height = y + 16;
  const body = [
    bandsOf(rows, tops).map(bandSvg).join(""),
    lifelines(scenario, height - 6),
    rows.map((row, i) => row.svg(tops[i] ?? 0)).join(""),
  ].join("");
  const label = `Sequence diagram: Alice to Infomaniak, its DNS lookups, the wire, Iroco and Bob, for “${oneLine(scenario.name)}”`;
  return (
    `<svg${attributes({
      xmlns: "http://www.w3.org/2000/svg",
      class: "sd",
      viewBox: `0 0 ${DIAGRAM_WIDTH} ${height}`,
      width: DIAGRAM_WIDTH,
      height,
      role: "img",
      "aria-label": label,
    })}><title>${escapeMarkup(label)}</title>${body}</svg>`
  );
}
