/**
 * The Postfix parameter names a scenario document writes, its postconf keys
 * and the postconf fields its matrix axes set, checked against the names
 * Postfix knows and located where each is written. The admin's own main.cf
 * is checked where it is read (ownConfig.ts), after this: a name of one's own
 * that only the admin's main.cf uses as $name, or a service-defined name of a
 * service only the admin's master.cf adds, belongs in that main.cf, not in
 * the scenario's postconf.
 */
import type { ScenarioProblem } from "./errors.js";
import { harnessMainCf } from "./ownConfig.js";
import { isPostfixRelease, POSTFIX_RELEASES, type PostfixRelease } from "../core/releases.js";
import { recordedParameters, unknownParameterProblem, type NameContext } from "./postfixNames.js";
import { roles, type ScenarioDocument } from "./schema.js";
import type { Role } from "./types.js";

/** The releases a provider of this document can run: its pin, the values of a matrix axis over it, the run's release, or any. */
function releasesOf(document: ScenarioDocument, role: Role, unpinned: PostfixRelease | undefined): readonly PostfixRelease[] {
  const pinned = document[role].postfix;
  if (pinned) return [pinned];
  const axis = Object.values(document.matrix?.axes ?? {}).find(({ set }) => set === `${role}.postfix`);
  const values = axis?.values.map(String).filter(isPostfixRelease);
  if (values && values.length > 0) return values;
  return unpinned ? [unpinned] : POSTFIX_RELEASES;
}
import { formatFieldPath, type FieldPath, type Locator } from "./yamlPosition.js";

export function documentNameProblems(document: ScenarioDocument, file: string, locate: Locator, unpinned?: PostfixRelease): ScenarioProblem[] {
  const problemAt = (path: FieldPath, message: string, prefer: "key" | "value"): ScenarioProblem => {
    const { position } = locate(path, prefer);
    return { file, line: position.line, column: position.column, field: formatFieldPath(path), message };
  };
  return roles.flatMap((role) => {
    const axes = Object.entries(document.matrix?.axes ?? {}).flatMap(([axis, { set, values }]) => {
      const [setRole, section, name] = set.split(".");
      return setRole === role && section === "postconf" && name ? [{ axis, name, values }] : [];
    });
    // Each provider is its own Postfix: a $name in one server's settings defines nothing for the other.
    const context: NameContext = {
      settings: [
        ...harnessMainCf().map(({ name, value }) => [name, value] as const),
        ...Object.entries(document[role].postconf),
        ...axes.flatMap(({ name, values }) => values.map((value) => [name, String(value)] as const)),
      ],
      services: new Map(),
    };
    const known = recordedParameters(undefined, releasesOf(document, role, unpinned));
    const written = Object.keys(document[role].postconf).flatMap((name) => {
      const problem = unknownParameterProblem(name, context, known);
      return problem ? [problemAt([role, "postconf", name], problem, "key")] : [];
    });
    const setByAxes = axes.flatMap(({ axis, name }) => {
      const problem = unknownParameterProblem(name, context, known);
      return problem ? [problemAt(["matrix", "axes", axis, "set"], `${name}: ${problem}`, "value")] : [];
    });
    return [...written, ...setByAxes];
  });
}
