import { Resvg } from '@resvg/resvg-js';
import type { TopLevelSpec } from 'vega-lite';

// Shipped in an npm package so the PNG looks the same on every machine, fonts installed or not.
const FONT_FILES = ['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf'].map((file) =>
  require.resolve(`dejavu-fonts-ttf/ttf/${file}`),
);

/** One view of a vconcat/hconcat, as vega-lite types it. */
export type PlotPanel = Extract<TopLevelSpec, { vconcat: unknown }>['vconcat'][number];

/** The font every plot uses (set it in the spec's `config.font`). */
export const PLOT_FONT = 'DejaVu Sans';

/** Renders a vega-lite spec to a PNG at twice its size (sharp on high-density screens). */
export async function renderPng(spec: TopLevelSpec): Promise<Buffer> {
  // vega and vega-lite are ESM with top-level await: import(), never require().
  const vega = await import('vega');
  const vegaLite = await import('vega-lite');
  const view = new vega.View(vega.parse(vegaLite.compile(spec).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  const resvg = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: 2 },
    font: { loadSystemFonts: false, fontFiles: FONT_FILES, defaultFontFamily: PLOT_FONT },
  });
  return resvg.render().asPng();
}
