/**
 * vitest's order, with the longest end-to-end files first. vitest starts the
 * files it has timed before longest first, but a clean clone (CI) has no
 * timings: a file of minutes started last would finish alone while the
 * other workers sit idle. The list names the files that take minutes.
 */
import { BaseSequencer, type TestSpecification } from "vitest/node";

const LONGEST = [
  "test/e2e/shipped-other-mtas.test.ts",
  "test/e2e/shipped-postfix.test.ts",
  "test/e2e/wrong-expectations.test.ts",
  "test/e2e/up-world.test.ts",
];

function rank(file: TestSpecification): number {
  const index = LONGEST.findIndex((name) => file.moduleId.endsWith(name));
  return index === -1 ? LONGEST.length : index;
}

export class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    return (await super.sort(files)).map((file, order) => ({ file, order })).sort((a, b) => rank(a.file) - rank(b.file) || a.order - b.order).map(({ file }) => file);
  }
}
