// Plain-language explanations of refusal codes and red flags: the one table of
// core/read/explain (helper "demo"), shipped as explain.json beside the app by
// tools/build-web.sh (`veta explain --json`, when the veta binary it is given has it). This is
// the app's single loader; without the file, a code is shown as itself.
import { getLang } from "./i18n.js";

interface Text {
  title: string;
  text: string;
}
interface Table {
  refusals?: Record<string, { es: Text; en: Text }>;
  flags?: Record<string, { es: Text; en: Text }>;
  departments?: Record<string, string>;
}

let table: Table = {};
let loaded: Promise<void> | null = null;

export function loadExplanations(): Promise<void> {
  loaded ??= fetch("explain.json")
    .then((r) => (r.ok ? (r.json() as Promise<Table>) : {}))
    .then((t) => void (table = t))
    .catch(() => void (table = {}));
  return loaded;
}

export function explain(code: string): Text {
  const e = table.refusals?.[code] ?? table.flags?.[code];
  if (e === undefined) return { title: code, text: "" };
  return getLang() === "es" ? e.es : e.en;
}

// A department's name with its accents, when the table has it.
export function departmentFromTable(code: string): string | undefined {
  return table.departments?.[code];
}
