import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ReportFlagError, parseReportFlag, toHtmlReport, toJunitXml, writeReports } from "../../src/report/index.js";
import { run } from "./report-fixtures.js";

describe("parseReportFlag", () => {
  it("parses KIND=FILE", () => {
    expect(parseReportFlag("json=out.json")).toEqual({ kind: "json", file: "out.json" });
    expect(parseReportFlag("junit=reports/junit.xml")).toEqual({ kind: "junit", file: "reports/junit.xml" });
    expect(parseReportFlag("JSON=a=b.json")).toEqual({ kind: "json", file: "a=b.json" });
    expect(parseReportFlag("html=reports/report.html")).toEqual({ kind: "html", file: "reports/report.html" });
  });

  it("rejects unknown kinds, listing the supported ones", () => {
    expect(() => parseReportFlag("xml=out.xml")).toThrow(ReportFlagError);
    expect(() => parseReportFlag("xml=out.xml")).toThrow(/unknown report kind "xml".*supported kinds: json, junit, html$/);
    expect(() => parseReportFlag("=out.json")).toThrow(/names no kind; supported kinds: json, junit, html$/);
  });

  it("rejects a missing file or a missing =", () => {
    expect(() => parseReportFlag("json=")).toThrow(/names no file: write json=FILE/);
    expect(() => parseReportFlag("json")).toThrow(/expects KIND=FILE/);
  });
});

describe("writeReports", () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("writes every requested report, creating parent folders", async () => {
    dir = await mkdtemp(join(tmpdir(), "report-index-"));
    const json = join(dir, "a", "report.json");
    const junit = join(dir, "b", "c", "junit.xml");
    const html = join(dir, "d", "report.html");
    await writeReports(run, [parseReportFlag(`json=${json}`), parseReportFlag(`junit=${junit}`), parseReportFlag(`html=${html}`)]);
    expect(JSON.parse(await readFile(json, "utf8")).summary).toEqual({ passed: 1, failed: 2, durationMs: 41_300 });
    expect(await readFile(junit, "utf8")).toBe(toJunitXml(run));
    expect(await readFile(html, "utf8")).toBe(toHtmlReport(run));
  });
});
