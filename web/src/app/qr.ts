// A QR code as SVG (qrcode-generator, error correction M), drawn without innerHTML.
import qrcode from "qrcode-generator";

const SVG = "http://www.w3.org/2000/svg";

export function qrSvg(text: string, label: string): SVGSVGElement {
  const qr = qrcode(0, "M");
  qr.addData(text);
  qr.make();
  const n = qr.getModuleCount();
  const margin = 4;
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", `0 0 ${n + 2 * margin} ${n + 2 * margin}`);
  svg.setAttribute("class", "qr-codigo");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", label);
  svg.dataset.text = text;
  const bg = document.createElementNS(SVG, "rect");
  bg.setAttribute("width", String(n + 2 * margin));
  bg.setAttribute("height", String(n + 2 * margin));
  bg.setAttribute("fill", "#fff");
  svg.appendChild(bg);
  let d = "";
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < n; c++) if (qr.isDark(r, c)) d += `M${c + margin},${r + margin}h1v1h-1z`;
  }
  const path = document.createElementNS(SVG, "path");
  path.setAttribute("d", d);
  path.setAttribute("fill", "#000");
  svg.appendChild(path);
  return svg;
}
