/**
 * The byte streams recorded on a real port-25 hop (test/fixtures/wire),
 * replayed through the wire's own HopRecorder into transcripts.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { expect } from "vitest";
import { HopRecorder } from "../../../src/wire/recorder.js";
import type { Direction, Transcript } from "../../../src/wire/transcript.js";

const WIRE_FIXTURES = path.resolve(import.meta.dirname, "../../fixtures/wire");
/** The marker every recorded message carries in its body. */
export const MARKER = "lab-5f2c9a1b0e3d";

interface FixtureFile {
  marker: string;
  chunks: { from: Direction; base64: string }[];
}

export interface Chunk {
  from: Direction;
  data: Buffer;
}

export function loadChunks(name: string): Chunk[] {
  const file = JSON.parse(readFileSync(path.join(WIRE_FIXTURES, name), "utf8")) as FixtureFile;
  expect(file.marker).toBe(MARKER);
  return file.chunks.map((chunk) => ({ from: chunk.from, data: Buffer.from(chunk.base64, "base64") }));
}

/** Feeds chunks to the recorder in order, as the wire passes them. */
export function feed(recorder: HopRecorder, chunks: readonly Chunk[]): void {
  for (const chunk of chunks) {
    if (chunk.from === "client") recorder.clientBytes(chunk.data);
    else recorder.serverBytes(chunk.data);
  }
}

/** A whole recorded connection, closed by both sides. */
export function replay(name: string): Transcript {
  const recorder = new HopRecorder();
  feed(recorder, loadChunks(name));
  recorder.close("client");
  recorder.close("server");
  return recorder.transcript(MARKER);
}
