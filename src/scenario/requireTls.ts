/**
 * REQUIRETLS (RFC 8689) exists only from Postfix 3.11 on: a scenario whose
 * message asks for it must have a sender that runs 3.11, known when the file
 * is read. The run's release is not always known then (`validate` takes
 * none, `compare` runs every unpinned provider under several releases,
 * STARTTLS_LAB_POSTFIX is read when the run starts), so the sender's pin
 * decides, or an explicit --postfix 3.11 for an unpinned sender. Which
 * releases have it is read from their recorded parameter names
 * (requiretls_enable, schema/postfix-parameters/).
 */
import type { PostfixRelease } from "../core/releases.js";
import type { ScenarioProblem } from "./errors.js";
import { mtaOf } from "./levels.js";
import { releasesWith } from "./postfixNames.js";
import type { Scenario } from "./types.js";
import { formatFieldPath, type FieldPath, type Locator } from "./yamlPosition.js";

const FIELD: FieldPath = ["message", "requireTls"];

export function requireTlsReleaseProblems(scenarios: readonly Scenario[], file: string, locate: Locator, unpinned: PostfixRelease | undefined): ScenarioProblem[] {
  return scenarios.flatMap((scenario) => {
    // Another MTA as the sender is refused in mtaChoice.ts, with its own reason.
    if (!scenario.message.requireTls || mtaOf(scenario.sender) !== "postfix") return [];
    const release = scenario.sender.postfix ?? unpinned;
    const supporting = releasesWith("requiretls_enable");
    if (release !== undefined && supporting.includes(release)) return [];
    const runs = release === undefined ? "the sender is not pinned, so it runs whatever release the run uses" : `the sender runs Postfix ${release}`;
    const { position } = locate(FIELD, "key");
    return [
      {
        file,
        line: position.line,
        column: position.column,
        field: formatFieldPath(FIELD),
        message: `REQUIRETLS needs a sender running Postfix ${supporting.join(" or ")}, and ${runs}: pin sender.postfix: "${supporting[0]}"`,
      },
    ];
  });
}
