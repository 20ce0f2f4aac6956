import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { afterEach, describe, expect, it } from "vitest";
import { escapeXmlAttr, escapeXmlText, toJunitXml, writeJunitReport } from "../../src/report/junit.js";
import { DEFERRAL, erroring, failing, passing, run } from "./report-fixtures.js";

type Node = Record<string, unknown>;

function parse(xml: string): Node {
  const validation = XMLValidator.validate(xml);
  expect(validation).toBe(true);
  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: "@",
    parseAttributeValue: false,
    parseTagValue: false,
    trimValues: false,
    htmlEntities: true,
    isArray: (name) => ["testsuite", "testcase"].includes(name),
  });
  return parser.parse(xml) as Node;
}

function suites(doc: Node): Node[] {
  return (doc["testsuites"] as Node)["testsuite"] as Node[];
}

function cases(suite: Node): Node[] {
  return suite["testcase"] as Node[];
}

describe("toJunitXml", () => {
  const xml = toJunitXml(run);
  const doc = parse(xml);

  it("is well-formed XML with an XML declaration", () => {
    expect(xml.startsWith(`<?xml version="1.0" encoding="UTF-8"?>\n<testsuites`)).toBe(true);
  });

  it("counts tests, failures, errors and time on <testsuites>", () => {
    const root = doc["testsuites"] as Node;
    expect(root["@name"]).toBe("starttls-lab");
    expect(root["@tests"]).toBe("3");
    expect(root["@failures"]).toBe("1");
    expect(root["@errors"]).toBe("1");
    expect(root["@time"]).toBe("41.300");
  });

  it("has one <testsuite> per scenario file with its own counts", () => {
    const [basic, errors] = suites(doc);
    expect(suites(doc)).toHaveLength(2);
    expect(basic).toMatchObject({
      "@name": "scenarios/basic.yaml",
      "@tests": "2",
      "@failures": "1",
      "@errors": "0",
      "@skipped": "0",
      "@time": "30.424",
    });
    expect(errors).toMatchObject({ "@name": "scenarios/errors.yaml", "@tests": "1", "@failures": "0", "@errors": "1" });
  });

  it("writes a passing testcase with name, classname, time and its evidence", () => {
    const tc = cases(suites(doc)[0]!)[0]!;
    expect(tc["@name"]).toBe(passing.scenario.name);
    expect(tc["@classname"]).toBe("scenarios/basic");
    expect(tc["@time"]).toBe("0.412");
    expect(tc["failure"]).toBeUndefined();
    expect(tc["error"]).toBeUndefined();
    expect(tc["system-out"]).toBe(passing.observation!.evidence.map((item) => item.line).join("\n"));
  });

  it("escapes a name containing < & \" ' and reads back the same text", () => {
    expect(xml).toContain("encrypt &lt;&amp;&quot;none&quot;&gt; &apos;quoted&apos;");
    const tc = cases(suites(doc)[0]!)[1]!;
    expect(tc["@name"]).toBe(failing.scenario.name);
  });

  it("reports unmet expectations as <failure> with differences and the observation", () => {
    const tc = cases(suites(doc)[0]!)[1]!;
    const failure = tc["failure"] as Node;
    expect(failure["@message"]).toBe("outcome: expected delivered, observed deferred");
    expect(failure["#text"]).toBe(
      [
        "outcome: expected delivered, observed deferred",
        "transport: expected tls, observed (none)",
        "expected: delivered over TLS",
        `observed: deferred: ${DEFERRAL}`,
      ].join("\n"),
    );
  });

  it("strips characters XML 1.0 forbids and ANSI sequences from evidence", () => {
    const tc = cases(suites(doc)[0]!)[1]!;
    expect(tc["system-out"]).toContain("bell  and escape red");
    // eslint-disable-next-line no-control-regex -- the control characters are what the test looks for
    expect(xml).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/);
  });

  it("reports harness errors as <error>", () => {
    const tc = cases(suites(doc)[1]!)[0]!;
    expect(tc["@name"]).toBe(erroring.scenario.name);
    const error = tc["error"] as Node;
    expect(error["@message"]).toBe("timed out after 30 s waiting for the message");
    expect(String(error["#text"])).toContain("last log line: nothing");
    expect(String(error["#text"])).toContain("expected: rejected: /5\\.7\\.1/i\nobserved: nothing");
    expect(tc["failure"]).toBeUndefined();
    expect(tc["system-out"]).toBeUndefined();
  });

  it("takes the suite name and handles an empty run", () => {
    const empty = parse(toJunitXml({ results: [], durationMs: 0 }, "mail-ci"));
    expect(empty["testsuites"]).toMatchObject({ "@name": "mail-ci", "@tests": "0", "@failures": "0", "@errors": "0" });
  });
});

describe("escaping", () => {
  it("escapes text and attributes", () => {
    expect(escapeXmlText(`a<b>&"c"'`)).toBe(`a&lt;b&gt;&amp;"c"'`);
    expect(escapeXmlAttr(`a<b>&"c"'\n\t`)).toBe("a&lt;b&gt;&amp;&quot;c&quot;&apos;&#10;&#9;");
  });

  it("drops illegal characters and lone surrogates, keeps tab, newline and astral characters", () => {
    expect(escapeXmlText("a\u0000b\u0008c\u000bd\ufffee\t\n\r")).toBe("abcde\t\n\r");
    expect(escapeXmlText("x\ud800y\udc00z 📬")).toBe("xyz 📬");
  });
});

describe("writeJunitReport", () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("creates parent folders", async () => {
    dir = await mkdtemp(join(tmpdir(), "report-junit-"));
    const file = join(dir, "out", "junit.xml");
    await writeJunitReport(run, file);
    expect(await readFile(file, "utf8")).toBe(toJunitXml(run));
  });
});
