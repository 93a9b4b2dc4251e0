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

/**
 * Width of every PNG, in pixels: the README and docs show plots about 800 px wide, so the image is
 * drawn at about that width (not at 2-3× and shrunk, which made its text unreadable).
 */
export const PLOT_WIDTH_PX = 1000;

/**
 * Every font size of a spec (and every label limit, in pixels) is multiplied by this, so labels
 * read at {@link PLOT_WIDTH_PX}.
 */
export const PLOT_FONT_SCALE = 1.35;

// Vega-lite's own defaults, for the specs that do not set a size: scaled like the others.
const DEFAULT_FONT_SIZES = {
  axis: { labelFontSize: 10, titleFontSize: 11 },
  legend: { labelFontSize: 10, titleFontSize: 11 },
  header: { labelFontSize: 10, titleFontSize: 11 },
  title: { fontSize: 13, subtitleFontSize: 10 },
  text: { fontSize: 11 },
};

function scaleFonts(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(scaleFonts);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) => [
      key,
      /(?:fontSize|Limit)$/i.test(key) && typeof inner === 'number'
        ? Math.round(inner * PLOT_FONT_SCALE * 10) / 10
        : scaleFonts(inner),
    ]),
  );
}

function withDefaultFontSizes(spec: TopLevelSpec): TopLevelSpec {
  const config = (spec.config ?? {}) as Record<string, object | undefined>;
  const merged: Record<string, object> = { ...config } as Record<string, object>;
  for (const [part, sizes] of Object.entries(DEFAULT_FONT_SIZES)) {
    merged[part] = { ...sizes, ...config[part] };
  }
  return { ...spec, config: merged };
}

/** Renders a vega-lite spec to a PNG {@link PLOT_WIDTH_PX} wide, its fonts scaled to read there. */
export async function renderPng(spec: TopLevelSpec): Promise<Buffer> {
  // vega and vega-lite are ESM with top-level await: import(), never require().
  const vega = await import('vega');
  const vegaLite = await import('vega-lite');
  const scaled = scaleFonts(withDefaultFontSizes(spec)) as TopLevelSpec;
  const view = new vega.View(vega.parse(vegaLite.compile(scaled).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  const resvg = new Resvg(svg, {
    fitTo: { mode: 'width', value: PLOT_WIDTH_PX },
    font: { loadSystemFonts: false, fontFiles: FONT_FILES, defaultFontFamily: PLOT_FONT },
  });
  return resvg.render().asPng();
}
