/**
 * Chart colours. On screen they come from VS Code's theme variables (light, dark, high
 * contrast), read again whenever the theme changes; chart images for the notes use one fixed
 * light palette on white, so they read the same in any editor, viewer or printout.
 */
export interface Palette {
  fg: string;
  muted: string;
  grid: string;
  /** Opaque background (images only); on screen the canvas stays transparent. */
  bg: string;
  series: string[];
  best: string;
  faint: string;
  /** The stretch of sequential colour scales used (0–1): the dark end is lost on a dark background, the yellow end on white. */
  scaleFrom: number;
  scaleTo: number;
}

const SERIES_VARS = ['--vscode-charts-blue', '--vscode-charts-orange', '--vscode-charts-green', '--vscode-charts-purple', '--vscode-charts-red', '--vscode-charts-yellow'];
const DARK_FALLBACK = ['#3794ff', '#d18616', '#89d185', '#b180d7', '#f14c4c', '#cca700'];

/** VS Code's light theme chart colours. */
export const LIGHT: Palette = {
  fg: '#1f1f1f',
  muted: '#616161',
  grid: 'rgba(0, 0, 0, 0.12)',
  bg: '#ffffff',
  series: ['#1a85ff', '#d18616', '#388a34', '#652d90', '#e51400', '#bf8803'],
  best: '#bf8803',
  faint: 'rgba(97, 97, 97, 0.18)',
  scaleFrom: 0,
  scaleTo: 0.82,
};

function cssVar(name: string, fallback: string): string {
  return getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;
}

/** The theme's colours now. */
export function screenPalette(): Palette {
  const fg = cssVar('--vscode-foreground', '#cccccc');
  const muted = cssVar('--vscode-descriptionForeground', fg);
  const dark = document.body.classList.contains('vscode-dark') || document.body.classList.contains('vscode-high-contrast');
  return {
    fg,
    muted,
    grid: cssVar('--vscode-editorWidget-border', dark ? 'rgba(255,255,255,0.15)' : 'rgba(0,0,0,0.12)'),
    bg: cssVar('--vscode-editor-background', dark ? '#1e1e1e' : '#ffffff'),
    series: SERIES_VARS.map((v, i) => cssVar(v, DARK_FALLBACK[i]!)),
    best: cssVar('--vscode-charts-yellow', '#cca700'),
    faint: dark ? 'rgba(200, 200, 200, 0.16)' : 'rgba(90, 90, 90, 0.16)',
    scaleFrom: dark ? 0.25 : 0,
    scaleTo: dark ? 1 : 0.82,
  };
}

/** A colour with an alpha, from #rgb/#rrggbb or rgb()/rgba() (theme variables use both). */
export function withAlpha(color: string, alpha: number): string {
  const hex = /^#([0-9a-f]{3}|[0-9a-f]{6})([0-9a-f]{2})?$/i.exec(color.trim());
  if (hex) {
    const h = hex[1]!.length === 3 ? [...hex[1]!].map((c) => c + c).join('') : hex[1]!;
    return `rgba(${parseInt(h.slice(0, 2), 16)}, ${parseInt(h.slice(2, 4), 16)}, ${parseInt(h.slice(4, 6), 16)}, ${alpha})`;
  }
  const rgb = /^rgba?\(([^,]+),([^,]+),([^,)]+)/.exec(color.trim());
  return rgb ? `rgba(${rgb[1]!.trim()}, ${rgb[2]!.trim()}, ${rgb[3]!.trim()}, ${alpha})` : color;
}
