// The rules engine compiled to WebAssembly (pkg/, served at /pkg/), loaded
// once, on the first page that decides: the Outlook task pane's loader
// (addin/src/engine.js), shared so both load and call it the same way.

export { decide, loadEngine } from '/addin/src/engine.js';
