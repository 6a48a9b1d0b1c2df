/**
 * The report's stylesheet, inlined into the page: system fonts only, so
 * opening the file fetches nothing.
 * @module
 */
export const REPORT_CSS = `
:root { color-scheme: light; }
body { margin: 0; background: #f4f5f7; color: #1b1f24; font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
main { max-width: 1080px; margin: 0 auto; padding: 24px; }
header h1 { margin: 0; font-size: 26px; }
.headline { margin: 4px 0 0; font-size: 16px; }
.headline strong { font-size: 24px; color: #2b8a3e; }
.generated { margin: 2px 0 0; color: #6a737d; font-size: 12px; }
section { background: #fff; border: 1px solid #dde1e6; border-radius: 8px; padding: 16px 20px; margin: 16px 0; }
h2 { margin: 0 0 12px; font-size: 18px; }
.tables { display: flex; flex-wrap: wrap; gap: 32px; align-items: flex-start; }
table { border-collapse: collapse; }
caption { text-align: left; font-weight: 600; padding-bottom: 4px; }
th, td { padding: 3px 16px 3px 0; text-align: left; border-bottom: 1px solid #eef0f2; font-weight: normal; }
th[scope="row"] { color: #57606a; }
table.epochs { margin-top: 12px; font-variant-numeric: tabular-nums; }
table.epochs th { color: #57606a; text-align: right; }
table.epochs td { text-align: right; }
svg { display: block; max-width: 100%; height: auto; }
.note { color: #6a737d; font-style: italic; }
.digits { display: grid; grid-template-columns: repeat(auto-fill, minmax(128px, 1fr)); gap: 14px 10px; }
figure.digit { margin: 0; text-align: center; }
figure.digit img { display: block; margin: 0 auto 4px; image-rendering: pixelated; }
figcaption { font-size: 12px; }
.probability { display: block; color: #6a737d; }
`
