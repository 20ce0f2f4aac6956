// The lab's page: the form, the live run, the history and the comparison.
// Everything the page shows comes from the lab server (src/lab/server.ts):
// the choices it offers, the event stream every tab shares, and each run's
// view, diagram included (drawn by the HTML report's own renderer).

const $ = (selector) => document.querySelector(selector);

/** What each value means, shown beside it in the form. */
const EXPLAIN = {
  senderLevel: {
    none: "never TLS",
    may: "TLS if offered, else clear text",
    encrypt: "TLS required, any certificate",
    dane: "DANE when TLSA is published, else may",
    "dane-only": "DANE required",
    verify: "TLS with a verified certificate",
    secure: "verify, matching the next-hop domain",
  },
  receiverLevel: { none: "no STARTTLS offered", may: "STARTTLS offered", encrypt: "STARTTLS required" },
  wire: {
    pass: "eavesdropper: listens only",
    "strip-starttls": "strip: hides STARTTLS",
    "fail-handshake": "breaks the TLS handshake",
    mitm: "man in the middle: own certificate",
    inject: "injects a command after STARTTLS",
  },
  zone: { signed: "DNSSEC-signed", unsigned: "not signed", bogus: "signatures expired" },
  tlsa: { auto: "the key the server presents", wrong: "a key it does not present", ca: "the harness CA", none: "no record" },
  mtaSts: { none: "no policy", testing: "testing: report only", enforce: "enforce: TLS required" },
  release: { "3.10": "Debian 13 trixie (stable)", "3.7": "Debian 12 bookworm (oldstable)" },
  prediction: {
    "delivered-tls": "delivered over TLS",
    "delivered-plaintext": "delivered in plaintext",
    deferred: "deferred (held in the queue)",
    bounced: "bounced back to Alice",
  },
};

const PHASE_TEXT = {
  applying: ["applying the settings…", "applied"],
  submitting: ["Alice submitting…", "submitted"],
  relaying: ["relaying on port 25…", "relayed"],
  observing: ["reading the evidence…", "observed"],
};

const FIELDS = ["senderLevel", "receiverLevel", "certificate", "wire", "zone", "tlsa", "mtaSts", "release", "attempts", "prediction"];
const OPTION_LISTS = {
  senderLevel: "senderLevels",
  receiverLevel: "receiverLevels",
  certificate: "certificates",
  wire: "wireModes",
  zone: "zones",
  tlsa: "tlsa",
  mtaSts: "mtaSts",
  release: "releases",
  prediction: "predictions",
};

const state = { options: undefined, runs: new Map(), worlds: new Map(), liveId: undefined, animatedId: undefined, watchedLive: new Set(), lessonStep: 0, compare: { left: undefined, right: undefined } };

function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    if (name === "className") node.className = value;
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) if (child !== undefined && child !== null) node.append(child);
  return node;
}

// ------------------------------------------------------------ the form

function fillForm(options) {
  for (const [field, list] of Object.entries(OPTION_LISTS)) {
    const select = $(`#${field}`);
    select.replaceChildren(
      ...options[list].map((value) => {
        const meaning = EXPLAIN[field]?.[value];
        return element("option", { value }, meaning ? `${value} — ${meaning}` : value);
      }),
    );
  }
  setChoices(options.defaults);
}

function setChoices(choices, { keepRelease = false } = {}) {
  for (const field of FIELDS) {
    if (keepRelease && field === "release") continue;
    if (choices[field] !== undefined) $(`#${field}`).value = String(choices[field]);
  }
}

function readChoices() {
  const choices = {};
  for (const field of FIELDS) choices[field] = $(`#${field}`).value;
  choices.attempts = Number(choices.attempts);
  return choices;
}

async function send(event) {
  event.preventDefault();
  const message = $("#form-message");
  message.className = "form-message";
  message.textContent = "Sending…";
  try {
    const response = await fetch("/api/runs", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(readChoices()) });
    const body = await response.json();
    if (!response.ok) throw new Error(body.error ?? `the lab answered ${response.status}`);
    state.liveId = body.id;
    const world = state.worlds.get(body.choices.release);
    const waiting = world?.state === "ready" ? "" : " It starts as soon as the world is up.";
    const ahead = [...state.runs.values()].filter((run) => run.id < body.id && run.status !== "finished").length;
    message.textContent = `Run ${body.id} queued${ahead > 0 ? `, behind ${ahead} other run${ahead === 1 ? "" : "s"} (one runs at a time)` : ""}.${waiting}`;
  } catch (error) {
    message.className = "form-message error";
    message.textContent = `Could not send: ${error.message}`;
  }
}

// ------------------------------------------------------------ the lesson

function showLessonStep() {
  const steps = state.options.lesson;
  const step = steps[state.lessonStep];
  $("#lesson-step-title").textContent = `${step.title} (step ${state.lessonStep + 1} of ${steps.length})`;
  $("#lesson-text").textContent = step.text;
  $("#lesson-prev").disabled = state.lessonStep === 0;
  $("#lesson-next").disabled = state.lessonStep === steps.length - 1;
}

function moveLesson(by) {
  state.lessonStep = Math.min(Math.max(0, state.lessonStep + by), state.options.lesson.length - 1);
  showLessonStep();
}

function useLessonStep() {
  setChoices(state.options.lesson[state.lessonStep].choices, { keepRelease: true });
  $("#form-message").textContent = "The lesson's settings are in the form: press Send.";
  $("#send").focus();
}

// ------------------------------------------------------------ world status

function showWorlds() {
  const status = $("#world-status");
  const worlds = [...state.worlds.values()];
  if (worlds.length === 0) {
    status.className = "world-status";
    status.textContent = "No world running yet: the first Send starts one.";
    return;
  }
  const describe = (world) => {
    if (world.state === "ready") return `Postfix ${world.release} world ready (started in ${Math.round(world.ms / 1000)} s).`;
    if (world.state === "failed") return `Postfix ${world.release} world could not start: ${world.message}`;
    return `Postfix ${world.release} world starting: ${world.step}…`;
  };
  status.textContent = worlds.map(describe).join(" ");
  status.className = `world-status ${worlds.some((w) => w.state === "failed") ? "failed" : worlds.every((w) => w.state === "ready") ? "ready" : ""}`;
}

// ------------------------------------------------------------ one run

function exportLinks(run) {
  return element(
    "div",
    { className: "buttons" },
    element("a", { className: "button", href: `/api/runs/${run.id}/scenario.yaml`, download: `lab-run-${run.id}.yaml` }, "Scenario file (YAML)"),
    element("a", { className: "button", href: `/api/runs/${run.id}/report.html`, download: `lab-run-${run.id}.html` }, "HTML report"),
  );
}

/** The diagram's rows, revealed one by one as a run arrives live (all at once otherwise, or when motion is reduced). */
function diagramFigure(run, animate) {
  const figure = element("figure", { className: "diagram" });
  // The SVG comes from the report's renderer, which escapes every text it draws.
  figure.innerHTML = run.outcome.diagramSvg;
  const rows = [...figure.querySelectorAll("g.step, g.note, g.starttls, g.hop, g.closed")];
  // Marks the figure complete, for whoever waits for the whole diagram (a screenshot).
  const drawn = () => (figure.dataset.drawn = "yes");
  if (animate && rows.length > 0 && !window.matchMedia("(prefers-reduced-motion: reduce)").matches) {
    rows.forEach((row) => row.classList.add("pending"));
    let next = 0;
    const reveal = () => {
      rows[next].classList.remove("pending");
      next += 1;
      if (next < rows.length) setTimeout(reveal, 180);
      else drawn();
    };
    reveal();
  } else drawn();
  figure.append(element("figcaption", { className: "muted" }, "The real dialogue: Alice's submission, the port-25 hop as the wire saw it, and the outcome."));
  return figure;
}

function runView(run, { animate = false, compact = false } = {}) {
  const outcome = run.outcome;
  const parts = [element("h3", {}, run.name)];
  if (!outcome) {
    parts.push(element("p", { className: "muted" }, run.status === "queued" ? "Waiting in the queue…" : "Running…"));
    if (run.liveDiagramSvg) {
      // The report's renderer drew it (every text escaped), from what the wire has seen of the hop so far.
      const figure = element("figure", { className: "diagram live", "data-testid": "live-diagram" });
      figure.innerHTML = run.liveDiagramSvg;
      figure.append(element("figcaption", { className: "muted" }, "Live: the port-25 hop as the wire sees it now."));
      parts.push(figure);
    }
    return element("div", { className: "run", "data-run": run.id }, parts);
  }
  parts.push(element("p", { className: `headline ${outcome.kind}`, "data-testid": "outcome" }, outcome.headline));
  parts.push(
    element(
      "p",
      {},
      element("span", { className: `prediction ${outcome.predictionHeld ? "held" : "missed"}` }, outcome.predictionHeld ? "Your prediction held" : "Your prediction did not hold"),
      outcome.kind === "failed" ? ` Predicted: ${outcome.expected}. Nothing could be observed: see why below.` : ` Predicted: ${outcome.expected}. Observed: ${outcome.observed}.`,
    ),
  );
  if (outcome.software) parts.push(element("p", { className: "muted software" }, `Ran on: ${outcome.software}.`));
  if (outcome.bodyReadable) parts.push(element("p", { className: "flag body-readable", "data-testid": "body-readable" }, "⚑ Body readable: the message crossed the port-25 hop in clear text; anyone on the wire could read it."));
  if (outcome.attackerReadBody) parts.push(element("p", { className: "flag body-readable" }, "⚑ The attacker in the middle decrypted the session and read the body."));
  for (const flag of outcome.flags) parts.push(element("p", { className: "flag" }, `⚑ ${flag}`));
  if (outcome.error !== undefined) parts.push(element("div", { className: "error", role: "alert" }, element("strong", {}, "The run failed. "), element("pre", {}, outcome.error)));
  parts.push(diagramFigure(run, animate));
  parts.push(
    element(
      "div",
      { className: "panes" },
      element("div", {}, element("h4", {}, "What an eavesdropper on the wire saw"), element("pre", { className: "eavesdropper" }, outcome.eavesdropper)),
      element(
        "div",
        {},
        element("h4", {}, "DNS lookups (MX, TLSA, MTA-STS policy)"),
        outcome.dnsLookups.length > 0 ? element("ul", { className: "dns-lookups" }, outcome.dnsLookups.map((line) => element("li", {}, line.replace(/^dns: /, "")))) : element("p", { className: "muted" }, "None recorded."),
      ),
    ),
  );
  if (!compact) parts.push(element("details", {}, element("summary", {}, `Evidence (${outcome.evidence.length} lines)`), element("pre", {}, outcome.evidence.join("\n"))));
  parts.push(exportLinks(run));
  return element("div", { className: "run", "data-run": run.id }, parts);
}

function showPhases(run) {
  const list = $("#phases");
  const current = state.options.phases.indexOf(run.phase);
  list.replaceChildren(
    ...state.options.phases.map((phase, index) => {
      const done = run.status === "finished" || index < current;
      const active = run.status === "running" && index === current;
      const [doing, finished] = PHASE_TEXT[phase];
      return element("li", { className: done ? "done" : active ? "current" : "", "aria-current": active ? "step" : undefined }, done ? `✓ ${finished}` : active ? doing : finished);
    }),
  );
}

function showLive() {
  const run = state.runs.get(state.liveId);
  if (!run) return;
  $("#live-title").textContent = run.status === "queued" ? `Run ${run.id} is queued.` : run.status === "running" ? `Run ${run.id} is running.` : `Run ${run.id} finished.`;
  showPhases(run);
  const container = $("#live-result");
  const shown = container.firstElementChild;
  const finishedShown = shown?.dataset.run === String(run.id) && shown.dataset.finished === "yes";
  if (finishedShown) return;
  // A run watched live already showed its hop growing: the finished diagram comes whole.
  if (run.liveDiagramSvg) state.watchedLive.add(run.id);
  const animate = run.status === "finished" && state.animatedId !== run.id && !state.watchedLive.has(run.id);
  if (animate) state.animatedId = run.id;
  const view = runView(run, { animate });
  if (run.status === "finished") view.dataset.finished = "yes";
  container.replaceChildren(view);
}

// ------------------------------------------------------------ history and comparison

function historyRow(run) {
  const choices = run.choices;
  const settings = `sender ${choices.senderLevel} → receiver ${choices.receiverLevel}; wire ${choices.wire}; certificate ${choices.certificate}${choices.mtaSts !== "none" ? `; MTA-STS ${choices.mtaSts}` : ""}; Postfix ${choices.release}`;
  const outcome = run.outcome ? run.outcome.headline : run.status === "queued" ? "queued" : `running (${run.phase})`;
  const prediction = run.outcome ? (run.outcome.predictionHeld ? "held" : "did not hold") : "";
  const actions = element(
    "div",
    { className: "buttons" },
    element("button", { type: "button", "data-action": "show", "aria-label": `Show run ${run.id}` }, "Show"),
    run.outcome ? element("button", { type: "button", "data-action": "left", "aria-label": `Compare run ${run.id} on the left` }, "Left") : undefined,
    run.outcome ? element("button", { type: "button", "data-action": "right", "aria-label": `Compare run ${run.id} on the right` }, "Right") : undefined,
    run.outcome ? exportLinks(run) : undefined,
  );
  return element("tr", { "data-run": run.id }, element("td", {}, String(run.id)), element("td", {}, settings), element("td", {}, outcome), element("td", {}, prediction), element("td", {}, actions));
}

function showHistory() {
  const runs = [...state.runs.values()].sort((a, b) => b.id - a.id);
  $("#history-empty").hidden = runs.length > 0;
  $("#history-table").hidden = runs.length === 0;
  $("#history-table tbody").replaceChildren(...runs.map(historyRow));
}

function showCompare() {
  for (const side of ["left", "right"]) {
    const run = state.runs.get(state.compare[side]);
    $(`#compare-${side}`).replaceChildren(run ? runView(run, { compact: true }) : element("p", { className: "muted" }, `No run on the ${side} yet.`));
  }
}

function onHistoryClick(event) {
  const button = event.target.closest("button[data-action]");
  if (!button) return;
  const id = Number(button.closest("tr").dataset.run);
  const action = button.dataset.action;
  if (action === "show") {
    state.liveId = id;
    showLive();
    $("#live").scrollIntoView();
    $("#live-heading").focus?.();
  } else {
    state.compare[action] = id;
    showCompare();
  }
}

// ------------------------------------------------------------ the event stream

function storeRun(run) {
  state.runs.set(run.id, run);
  // Any tab's run that starts becomes the live one: the class watches the same world.
  if (run.status === "running" || state.liveId === undefined) state.liveId = run.id;
  showHistory();
  showLive();
  if (run.id === state.compare.left || run.id === state.compare.right) showCompare();
}

function connect() {
  const events = new EventSource("/api/events");
  events.addEventListener("snapshot", (event) => {
    const snapshot = JSON.parse(event.data);
    state.worlds = new Map(snapshot.worlds.map((world) => [world.release, world]));
    showWorlds();
    for (const run of snapshot.runs) storeRun(run);
    // A tab opened mid-session shows the latest run, whatever its state.
    if (snapshot.runs.length > 0) {
      state.liveId = snapshot.runs[snapshot.runs.length - 1].id;
      showLive();
    }
  });
  events.addEventListener("world", (event) => {
    const world = JSON.parse(event.data);
    state.worlds.set(world.release, world);
    showWorlds();
  });
  events.addEventListener("run", (event) => storeRun(JSON.parse(event.data)));
  events.addEventListener("error", () => {
    const status = $("#world-status");
    status.className = "world-status failed";
    status.textContent = "Lost the connection to the lab; trying again… (is starttls-lab serve still running?)";
  });
}

// ------------------------------------------------------------ start

function largeType(on) {
  document.documentElement.classList.toggle("large", on);
  $("#large-type").setAttribute("aria-pressed", String(on));
  localStorage.setItem("starttls-lab.large", on ? "1" : "0");
}

async function start() {
  largeType(localStorage.getItem("starttls-lab.large") === "1");
  $("#large-type").addEventListener("click", () => largeType(!document.documentElement.classList.contains("large")));
  const response = await fetch("/api/options");
  state.options = await response.json();
  fillForm(state.options);
  showLessonStep();
  showCompare();
  $("#settings").addEventListener("submit", send);
  $("#lesson-prev").addEventListener("click", () => moveLesson(-1));
  $("#lesson-next").addEventListener("click", () => moveLesson(1));
  $("#lesson-use").addEventListener("click", useLessonStep);
  $("#history-table").addEventListener("click", onHistoryClick);
  $("#live-heading").setAttribute("tabindex", "-1");
  connect();
}

start().catch((error) => {
  const status = $("#world-status");
  status.className = "world-status failed";
  status.textContent = `The lab page could not start: ${error.message}`;
});
