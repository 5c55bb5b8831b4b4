// The web app's shell: a hash router (`#/verificar?lote=...&nota=...`), the language toggle.
import "./style.css";

import { getLang, setLang, translateStatic } from "./i18n.js";
import { renderFirmar } from "./firmar.js";
import { renderMesa } from "./mesa.js";
import { renderPlanta } from "./planta.js";
import { renderRegulador } from "./regulador.js";
import { renderVerificar } from "./verificar.js";

function route(): void {
  const main = document.getElementById("main")!;
  const hash = location.hash.replace(/^#/, "") || "/verificar";
  const [path, query = ""] = hash.split("?");
  const params = new URLSearchParams(query);
  switch (path) {
    case "/regulador":
      renderRegulador(main, params);
      break;
    case "/planta":
    case "/lotes":
      void renderPlanta(main);
      break;
    case "/mesa":
      renderMesa(main);
      break;
    case "/firmar":
      void renderFirmar(main);
      break;
    default:
      renderVerificar(main, params);
  }
}

function init(): void {
  const button = document.getElementById("lang")!;
  const label = () => (button.textContent = getLang() === "es" ? "English" : "Español");
  setLang(getLang());
  translateStatic();
  label();
  button.addEventListener("click", () => {
    setLang(getLang() === "es" ? "en" : "es");
    translateStatic();
    label();
    route();
  });
  window.addEventListener("hashchange", route);
  route();
}

init();
