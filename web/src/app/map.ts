// A map of Peru as SVG: the 25 departments (INEI boundaries, bundled at build time), the
// departments of origin highlighted, and each mining unit of origin as its polygon and a
// circle whose area is its share. Equirectangular projection scaled by cos(latitude): at
// Peru's size the distortion does not matter for showing where the gold came from.
import departmentsJson from "../gen/departments.json";
import { departmentFromTable } from "./explain.js";

type Position = number[];
interface Geometry {
  type: string;
  coordinates: unknown;
}
interface Feature {
  properties: { code: string; name: string };
  geometry: Geometry;
}

export const departments = (departmentsJson as { features: Feature[] }).features;

// "MADRE DE DIOS" -> "Madre de Dios"; a code with no department stays as it is.
export function departmentName(code: string): string {
  const written = departmentFromTable(code);
  if (written !== undefined) return written;
  const name = departments.find((f) => f.properties.code === code)?.properties.name;
  if (name === undefined) return code;
  return name
    .toLowerCase()
    .split(" ")
    .map((w, i) => (i > 0 && ["de", "del", "la", "las", "los", "y"].includes(w) ? w : w.charAt(0).toUpperCase() + w.slice(1)))
    .join(" ");
}

export interface MapUnit {
  code: string;
  label: string; // shown on hover
  share: number; // 0..1
  geometry: unknown;
}

const SVG = "http://www.w3.org/2000/svg";
const kWidth = 560;

// The outer rings of a Polygon or MultiPolygon (others: none).
function rings(g: unknown): Position[][] {
  if (typeof g !== "object" || g === null) return [];
  const geom = g as Geometry;
  if (geom.type === "Polygon") return geom.coordinates as Position[][];
  if (geom.type === "MultiPolygon") return (geom.coordinates as Position[][][]).flat();
  return [];
}

// Other shapes under the units: prohibited zones, mining scars (class names the layer).
export interface MapShape {
  cls: string;
  label: string;
  geometry: unknown;
}

export function drawMap(units: MapUnit[], highlight: Set<string>, title: string, shapes: MapShape[] = []): SVGSVGElement {
  let minLon = Infinity, maxLon = -Infinity, minLat = Infinity, maxLat = -Infinity;
  for (const f of departments) {
    for (const ring of rings(f.geometry)) {
      for (const [lon, lat] of ring) {
        minLon = Math.min(minLon, lon);
        maxLon = Math.max(maxLon, lon);
        minLat = Math.min(minLat, lat);
        maxLat = Math.max(maxLat, lat);
      }
    }
  }
  const cos = Math.cos((((minLat + maxLat) / 2) * Math.PI) / 180);
  const k = kWidth / ((maxLon - minLon) * cos);
  const height = (maxLat - minLat) * k;
  const project = ([lon, lat]: Position): [number, number] => [(lon - minLon) * cos * k, (maxLat - lat) * k];
  const pathOf = (g: unknown) =>
    rings(g)
      .map((ring) => "M" + ring.map((p) => project(p).map((v) => v.toFixed(1)).join(",")).join("L") + "Z")
      .join("");

  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", `0 0 ${kWidth} ${height.toFixed(0)}`);
  svg.setAttribute("role", "img");
  svg.setAttribute("class", "mapa");
  const titleEl = document.createElementNS(SVG, "title");
  titleEl.textContent = title;
  svg.appendChild(titleEl);

  for (const f of departments) {
    const path = document.createElementNS(SVG, "path");
    path.setAttribute("d", pathOf(f.geometry));
    path.setAttribute("class", highlight.has(f.properties.code) ? "departamento origen" : "departamento");
    path.dataset.code = f.properties.code;
    const tip = document.createElementNS(SVG, "title");
    tip.textContent = f.properties.name;
    path.appendChild(tip);
    svg.appendChild(path);
  }
  for (const shape of shapes) {
    if (rings(shape.geometry).length === 0) continue;
    const path = document.createElementNS(SVG, "path");
    path.setAttribute("d", pathOf(shape.geometry));
    path.setAttribute("class", shape.cls);
    const tip = document.createElementNS(SVG, "title");
    tip.textContent = shape.label;
    path.appendChild(tip);
    svg.appendChild(path);
  }
  for (const u of units) {
    const g = document.createElementNS(SVG, "g");
    g.setAttribute("class", "unidad");
    g.dataset.unit = u.code;
    const tip = document.createElementNS(SVG, "title");
    tip.textContent = u.label;
    g.appendChild(tip);
    const ring = rings(u.geometry)[0];
    if (ring !== undefined) {
      const poly = document.createElementNS(SVG, "path");
      poly.setAttribute("d", pathOf(u.geometry));
      poly.setAttribute("class", "unidad-poligono");
      g.appendChild(poly);
      const pts = ring.map(project);
      const cx = pts.reduce((a, p) => a + p[0], 0) / pts.length;
      const cy = pts.reduce((a, p) => a + p[1], 0) / pts.length;
      const circle = document.createElementNS(SVG, "circle");
      circle.setAttribute("cx", cx.toFixed(1));
      circle.setAttribute("cy", cy.toFixed(1));
      circle.setAttribute("r", (4 + 14 * Math.sqrt(u.share)).toFixed(1));
      circle.setAttribute("class", "unidad-marca");
      g.appendChild(circle);
    }
    svg.appendChild(g);
  }
  return svg;
}
