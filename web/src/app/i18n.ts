// Spanish first, English second: every text of the app in both, chosen once per page load
// (remembered in localStorage), numbers in Peru's format.
export type Lang = "es" | "en";

let lang: Lang = (globalThis.localStorage?.getItem("veta.lang") as Lang | null) === "en" ? "en" : "es";

export const getLang = (): Lang => lang;
export function setLang(l: Lang): void {
  lang = l;
  localStorage.setItem("veta.lang", l);
  document.documentElement.lang = l;
}

// A text in the current language.
export const t = (es: string, en: string): string => (lang === "es" ? es : en);

const kStatic: Record<string, [string, string]> = {
  tagline: ["Registro de trazabilidad del oro", "Gold traceability registry"],
  "nav.verify": ["Verificar oro", "Verify gold"],
  "nav.sign": ["Firmar", "Sign"],
  "nav.desk": ["Mesa del comprador", "Buyer's desk"],
  "nav.regulator": ["Regulador", "Regulator"],
  "nav.plant": ["Mis lotes y planta", "My lots and plant"],
  "footer.offline": [
    "La verificación se hace en este navegador, sin conexión: solo necesita la clave pública de la autoridad.",
    "Verification runs in this browser, offline: it needs only the authority's public key.",
  ],
  "footer.map": [
    "Mapa: límites departamentales del INEI (github.com/juaneladio/peru-geojson), licencia",
    "Map: INEI department boundaries (github.com/juaneladio/peru-geojson), licence",
  ],
};

export function translateStatic(): void {
  for (const el of document.querySelectorAll<HTMLElement>("[data-i18n]")) {
    const pair = kStatic[el.dataset.i18n ?? ""];
    if (pair) el.textContent = lang === "es" ? pair[0] : pair[1];
  }
}

const locale = () => (lang === "es" ? "es-PE" : "en-US");

// Milligrams as grams with three decimals: 14400 -> "14,400 g" (es-PE) / "14.400 g".
export function grams(mg: bigint): string {
  const whole = mg / 1000n;
  const frac = Number(mg % 1000n) / 1000;
  const n = new Intl.NumberFormat(locale(), { minimumFractionDigits: 3, maximumFractionDigits: 3 });
  // Whole grams as a bigint never lose digits; the fraction is three exact decimals.
  const parts = n.formatToParts(Number(whole) + frac);
  return `${parts.map((p) => p.value).join("")} g`;
}

// numerator / denominator as a percent to 2 decimals (display only).
export function percent(numerator: bigint, denominator: bigint): string {
  if (denominator === 0n) return "n/a";
  const ratio = Number((numerator * 1000000n) / denominator) / 1000000;
  return new Intl.NumberFormat(locale(), { style: "percent", minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(ratio);
}

export function integer(n: bigint): string {
  return new Intl.NumberFormat(locale()).format(n);
}
