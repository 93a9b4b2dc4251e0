// Builders of the Kibana saved objects (data view, Lens visualizations, dashboard) in the format
// Kibana 8.9+ exports. The migration versions are the ones Kibana 8.9 to 8.19 write; Kibana only
// imports objects whose versions it knows, and migrates older ones forward (8.15+ and 9.x do).

const CORE_MIGRATION_VERSION = '8.8.0';
const TYPE_MIGRATION_VERSION = { 'index-pattern': '8.0.0', lens: '8.9.0', dashboard: '8.9.0' };

/** Every visualization here has one layer, so one reference to the data view. */
export const LAYER = 'main';

const versions = (type) => ({
  coreMigrationVersion: CORE_MIGRATION_VERSION,
  typeMigrationVersion: TYPE_MIGRATION_VERSION[type],
});

/**
 * The data view over the business-event data streams. `allowNoIndex` lets Kibana open it before
 * the first event created the data stream; `event.duration` (nanoseconds, as ECS wants) is shown
 * in milliseconds wherever a panel keeps the field's format (percentiles do).
 */
export const dataView = ({ id, name, pattern }) => ({
  id,
  type: 'index-pattern',
  attributes: {
    name,
    title: pattern,
    timeFieldName: '@timestamp',
    allowNoIndex: true,
    fields: '[]',
    fieldAttrs: '{}',
    runtimeFieldMap: '{}',
    sourceFilters: '[]',
    typeMeta: '{}',
    fieldFormatMap: JSON.stringify({
      'event.duration': {
        id: 'duration',
        params: {
          inputFormat: 'nanoseconds',
          outputFormat: 'asMilliseconds',
          outputPrecision: 0,
          showSuffix: true,
          useShortSuffix: true,
        },
      },
    }),
  },
  references: [],
  ...versions('index-pattern'),
});

const AXES = { x: true, yLeft: true, yRight: true };

/** An XY chart with one data layer: `x` and `split` are column ids, `y` a list of them. */
export const xy = ({ seriesType, x, split, y, yTitle }) => ({
  legend: { isVisible: true, position: 'right' },
  valueLabels: 'hide',
  fittingFunction: 'None',
  ...(yTitle ? { yTitle } : {}),
  axisTitlesVisibilitySettings: AXES,
  tickLabelsVisibilitySettings: AXES,
  gridlinesVisibilitySettings: AXES,
  labelsOrientation: { x: 0, yLeft: 0, yRight: 0 },
  preferredSeriesType: seriesType,
  layers: [
    {
      layerId: LAYER,
      layerType: 'data',
      seriesType,
      xAccessor: x,
      ...(split ? { splitAccessor: split } : {}),
      accessors: y,
    },
  ],
});

/** A single big number. */
export const metricVis = (column) => ({
  layerId: LAYER,
  layerType: 'data',
  metricAccessor: column,
});

/** A table whose rows and columns are the layer's columns, in order. */
export const datatable = (columnIds) => ({
  layerId: LAYER,
  layerType: 'data',
  columns: columnIds.map((columnId) => ({ columnId, isTransposed: false })),
  paging: { enabled: true, size: 10 },
});

/**
 * A Lens visualization saved object. `columns` maps column ids to columns; its key order is the
 * layer's column order. `query` (KQL) applies to the whole panel.
 */
export const lens = ({
  id,
  title,
  description,
  visualizationType,
  query,
  columns,
  visualization,
  dataViewId,
}) => ({
  id,
  type: 'lens',
  attributes: {
    title,
    description,
    visualizationType,
    state: {
      visualization,
      query: { query, language: 'kuery' },
      filters: [],
      datasourceStates: {
        formBased: {
          layers: {
            [LAYER]: {
              columns,
              columnOrder: Object.keys(columns),
              incompleteColumns: {},
              sampling: 1,
            },
          },
        },
      },
      internalReferences: [],
      adHocDataViews: {},
    },
  },
  references: [
    { type: 'index-pattern', id: dataViewId, name: `indexpattern-datasource-layer-${LAYER}` },
  ],
  ...versions('lens'),
});

/**
 * A dashboard of Lens panels by reference; `panels` are `{ lens, x, y, w, h }` on Kibana's
 * 48-column grid. Each panel's reference is named `<panelIndex>:panel_<panelIndex>`, as Kibana 8
 * writes it.
 */
export const dashboard = ({ id, title, description, panels, timeFrom = 'now-24h' }) => ({
  id,
  type: 'dashboard',
  attributes: {
    title,
    description,
    version: 1,
    timeRestore: true,
    timeFrom,
    timeTo: 'now',
    refreshInterval: { pause: false, value: 60000 },
    optionsJSON: JSON.stringify({
      useMargins: true,
      syncColors: false,
      syncCursor: true,
      syncTooltips: false,
      hidePanelTitles: false,
    }),
    panelsJSON: JSON.stringify(
      panels.map(({ lens: panel, x, y, w, h }) => ({
        type: 'lens',
        gridData: { x, y, w, h, i: panel.id },
        panelIndex: panel.id,
        embeddableConfig: { enhancements: {} },
        panelRefName: `panel_${panel.id}`,
      })),
    ),
    kibanaSavedObjectMeta: {
      searchSourceJSON: JSON.stringify({ query: { query: '', language: 'kuery' }, filter: [] }),
    },
  },
  references: panels.map(({ lens: panel }) => ({
    type: 'lens',
    id: panel.id,
    name: `${panel.id}:panel_${panel.id}`,
  })),
  ...versions('dashboard'),
});
