import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parsePostqueueJson } from "../../src/observe/queue.js";

const captured = readFileSync(new URL("../fixtures/logs/postqueue-deferred.jsonl", import.meta.url), "utf8");

describe("parsePostqueueJson", () => {
  it("reads a deferred message with its recipient's delay reason (captured output)", () => {
    expect(parsePostqueueJson(captured)).toEqual([
      {
        queueName: "deferred",
        queueId: "C5534178003",
        sender: "alice@infomaniak.test",
        recipients: [
          {
            address: "bob@iroco.test",
            delayReason: "TLS is required, but was not offered by host mx.iroco.test[172.18.0.3]",
          },
        ],
        arrivalTime: 1795819694,
        messageSize: 618,
      },
    ]);
  });

  it("an empty output is an empty queue", () => {
    expect(parsePostqueueJson("")).toEqual([]);
    expect(parsePostqueueJson("\n")).toEqual([]);
  });

  it("reads several lines, with a trailing newline, and a recipient not yet tried (no delay_reason)", () => {
    const active = captured.trim().replace('"deferred"', '"active"').replace(/, "delay_reason": "[^"]*"/, "");
    const messages = parsePostqueueJson(`${captured.trim()}\n${active}\n`);
    expect(messages.map((m) => m.queueName)).toEqual(["deferred", "active"]);
    expect(messages[1]?.recipients).toEqual([{ address: "bob@iroco.test" }]);
  });

  it("throws a clear error naming the line on malformed output", () => {
    expect(() => parsePostqueueJson(`${captured.trim()}\npostqueue: fatal: Queue report unavailable`)).toThrow(
      /postqueue -j output, line 2: not JSON/,
    );
    expect(() => parsePostqueueJson('{"queue_name": "deferred"}')).toThrow(/line 1: queue_id missing/);
    expect(() => parsePostqueueJson("[1,2]")).toThrow(/line 1: not a JSON object/);
    expect(() =>
      parsePostqueueJson('{"queue_name":"hold","queue_id":"AB12CD34EF","sender":"","recipients":[{"delay_reason":"x"}]}'),
    ).toThrow(/lacks its address/);
  });
});
