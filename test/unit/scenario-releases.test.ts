import { describe, expect, it } from "vitest";
import { scenarioTextLoader } from "./helpers/scenarioText.js";
import { parseScenarioText } from "../../src/scenario/parseText.js";
import { describePins, fitsWorld, groupByWorldShape, worldShapeOf } from "../../src/scenario/worldShape.js";

const { load, errorOf } = scenarioTextLoader("releases.yaml");

const delivered = "expect: { outcome: delivered, transport: tls }";

describe("a provider's Postfix release", () => {
  it("is pinned per side, and absent where the scenario does not pin it", () => {
    const [scenario] = load(`name: mixed\nsender: { postfix: "3.7" }\n${delivered}\n`);
    expect(scenario!.sender.postfix).toBe("3.7");
    expect(scenario!.receiver).not.toHaveProperty("postfix");
  });

  it("is refused unquoted, because YAML reads 3.10 as the number 3.1", () => {
    expect(errorOf(`name: unquoted\nreceiver: { postfix: 3.10 }\n${delivered}\n`)).toBe(
      'releases.yaml:2:22: receiver.postfix: write the release in quotes ("3.7", "3.10", "3.11"): YAML reads 3.10 as the number 3.1',
    );
  });

  it("is refused when no world runs it", () => {
    expect(errorOf(`name: unknown\nsender: { postfix: "3.8" }\n${delivered}\n`)).toBe("releases.yaml:2:20: sender.postfix: one of 3.7, 3.10, 3.11");
  });

  it("is a matrix axis: one scenario per release, each pinned", () => {
    const scenarios = load(`name: per release
matrix:
  axes:
    sender: { set: sender.postfix, values: ["3.7", "3.10"] }
  cells:
    - when: { sender: ["3.7", "3.10"] }
      ${delivered}
`);
    expect(scenarios.map((scenario) => [scenario.name, scenario.sender.postfix])).toEqual([
      ["per release [sender=3.7]", "3.7"],
      ["per release [sender=3.10]", "3.10"],
    ]);
  });

  it("decides which parameter names are valid: one Postfix 3.10 added is unknown to a provider pinned to 3.7", () => {
    expect(load(`name: rpk\nsender: { postconf: { smtp_tls_enable_rpk: "yes" } }\n${delivered}\n`)).toHaveLength(1);
    expect(errorOf(`name: rpk\nsender: { postfix: "3.7", postconf: { smtp_tls_enable_rpk: "yes" } }\n${delivered}\n`)).toMatch(
      /^releases\.yaml:2:39: sender\.postconf\.smtp_tls_enable_rpk: unknown Postfix parameter \(not in postconf -d of Postfix 3\.7;/,
    );
  });

  it("of an unpinned provider is the run's (--postfix), whose names alone are then valid", () => {
    const text = `name: rpk\nsender: { postconf: { smtp_tls_enable_rpk: "yes" } }\n${delivered}\n`;
    expect(parseScenarioText(text, "releases.yaml", "3.10").problems).toEqual([]);
    expect(parseScenarioText(text, "releases.yaml", "3.7").problems.map((problem) => problem.field)).toEqual(["sender.postconf.smtp_tls_enable_rpk"]);
    const pinned = `name: rpk\nsender: { postfix: "3.10", postconf: { smtp_tls_enable_rpk: "yes" } }\n${delivered}\n`;
    expect(parseScenarioText(pinned, "releases.yaml", "3.7").problems).toEqual([]);
  });
});

describe("world shapes", () => {
  const [unpinned, mixed, receiver310] = load(`name: unpinned\n${delivered}\n---\nname: mixed\nsender: { postfix: "3.7" }\nreceiver: { postfix: "3.10" }\n${delivered}\n---\nname: receiver\nreceiver: { postfix: "3.10" }\n${delivered}\n`);

  it("let a scenario's pin win and give every other provider the run's release", () => {
    expect(worldShapeOf(unpinned!, "3.7")).toEqual({ sender: { mta: "postfix", release: "3.7" }, receiver: { mta: "postfix", release: "3.7" } });
    expect(worldShapeOf(mixed!, "3.11")).toEqual({ sender: { mta: "postfix", release: "3.7" }, receiver: { mta: "postfix", release: "3.10" } });
    expect(worldShapeOf(receiver310!, "3.7")).toEqual({ sender: { mta: "postfix", release: "3.7" }, receiver: { mta: "postfix", release: "3.10" } });
  });

  it("group scenarios in the order their first one comes, keeping each one's position", () => {
    expect(groupByWorldShape([unpinned!, mixed!, receiver310!, unpinned!], "3.7")).toEqual([
      { shape: { sender: { mta: "postfix", release: "3.7" }, receiver: { mta: "postfix", release: "3.7" } }, indices: [0, 3] },
      { shape: { sender: { mta: "postfix", release: "3.7" }, receiver: { mta: "postfix", release: "3.10" } }, indices: [1, 2] },
    ]);
  });

  it("say whether a started world can run a scenario", () => {
    expect(fitsWorld(unpinned!, { sender: { mta: "postfix", release: "3.7" }, receiver: { mta: "postfix", release: "3.10" } })).toBe(true);
    expect(fitsWorld(mixed!, { sender: { mta: "postfix", release: "3.10" }, receiver: { mta: "postfix", release: "3.10" } })).toBe(false);
    expect(describePins(mixed!)).toBe("sender Postfix 3.7, receiver Postfix 3.10");
    expect(describePins(unpinned!)).toBe("");
  });
});
